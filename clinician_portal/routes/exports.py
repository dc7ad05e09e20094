"""Documents staff take away: a patient's PDF summary (made now or stored ahead of a session), their
FHIR record, and the clinic's pseudonymous CSV for research and audit (administrators only).

Every download is audited by the service function that makes it. Files are sent with
``Cache-Control: no-store`` like every portal page, so no shared cache keeps health data.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clinician_portal.deps import CurrentStaff, SessionDep, SignedIn, require_role
from clinician_portal.forms import parse_day
from clinician_portal.pages import page, portal_path
from clinician_portal.panels import PatientPanel, register_patient_panel
from service.caseload import PatientRecord
from service.errors import Invalid
from service.models import Role
from service.summaries import fhir, research
from service.summaries import service as summaries
from service.summaries.content import MAX_DAYS
from service.summaries.service import SummaryFile

router = APIRouter(dependencies=[Depends(require_role(Role.CLINICIAN, Role.ADMIN))])
admin_router = APIRouter(dependencies=[Depends(require_role(Role.ADMIN))])
Admin = Annotated[SignedIn, Depends(require_role(Role.ADMIN))]
Days = Annotated[int | None, Query(ge=1, le=MAX_DAYS)]
Lang = Annotated[str | None, Query(max_length=8)]


def _download(document: SummaryFile, *, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        content=document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{document.filename}"'},
    )


@router.get("/patients/{patient_id}/summary.pdf", name="patient_summary_pdf")
def summary_pdf(
    patient_id: str, current: CurrentStaff, session: SessionDep, days: Days = None, lang: Lang = None
) -> Response:
    """The patient's summary made now: since the last session, or the last `days` days."""
    document = summaries.summary_for_staff(session, staff=current.staff, patient_id=patient_id, days=days, lang=lang)
    return _download(document, inline=True)


@router.get("/patients/{patient_id}/summaries/{summary_id}.pdf", name="stored_summary_pdf")
def stored_summary_pdf(patient_id: str, summary_id: str, current: CurrentStaff, session: SessionDep) -> Response:
    """A summary made ahead of a session and kept encrypted."""
    document = summaries.stored_summary_for_staff(
        session, staff=current.staff, patient_id=patient_id, summary_id=summary_id
    )
    return _download(document, inline=True)


@router.get("/summaries/{summary_id}", name="summary_link")
def summary_link(request: Request, summary_id: str, current: CurrentStaff, session: SessionDep) -> Response:
    """Where the "summary ready" email points: the patient's page, at their summaries, after sign-in."""
    patient_id = summaries.summary_owner(session, staff=current.staff, summary_id=summary_id)
    return RedirectResponse(portal_path(request, "patient", patient_id=patient_id) + "#summaries", status_code=303)


@router.get("/patients/{patient_id}/record.fhir.json", name="patient_fhir")
def patient_fhir(patient_id: str, current: CurrentStaff, session: SessionDep) -> Response:
    """The patient's record as a FHIR R4 Bundle, for the clinic's health record system."""
    return _download(fhir.fhir_for_staff(session, current.staff, patient_id))


@admin_router.get("/exports", name="exports", response_class=HTMLResponse)
def exports_page(request: Request, current: Admin) -> Response:
    return page(request, "exports.html", signed_in=current, values={"since": "", "until": ""}, error=None)


@admin_router.get("/exports/checkins.csv", name="exports_csv")
def clinic_csv(request: Request, current: Admin, session: SessionDep, since: str = "", until: str = "") -> Response:
    """Check-ins and questionnaire scores of the whole clinic, pseudonymised (see service.summaries.research)."""
    try:
        document = research.clinic_csv(session, current.staff, start=parse_day(since), end=parse_day(until))
    except Invalid as exc:
        values = {"since": since[:10], "until": until[:10]}
        return page(request, "exports.html", signed_in=current, values=values, error=exc.detail, status=422)
    return _download(document)


def _summaries_panel(record: PatientRecord) -> dict[str, Any]:
    return {"stored": record.summaries, "max_days": MAX_DAYS}


register_patient_panel(PatientPanel("summaries", "panels/summaries.html", _summaries_panel, order=900))
