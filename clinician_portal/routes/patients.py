"""The caseload and one patient's page: enrolment, invitations and the next appointment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from clinician_portal import charts
from clinician_portal.deps import CurrentStaff, SessionDep, SignedIn, require_role
from clinician_portal.forms import (
    LANGUAGE_NAMES,
    country_choices,
    local_input_value,
    parse_local_datetime,
    timezone_choices,
)
from clinician_portal.letters import invitation_letter
from clinician_portal.pages import page, portal_path, see_other
from clinician_portal.panels import load_patient_panels
from service import caseload
from service.caseload import IssuedInvitation, overview
from service.caseload.overview import OverviewFilters
from service.config import get_settings
from service.errors import Invalid
from service.exercises.assignments import ADHERENCE_WEEKS
from service.measures.instruments import get_instrument
from service.models import PatientStatus, Role
from service.models.base import utcnow

router = APIRouter(dependencies=[Depends(require_role(Role.CLINICIAN, Role.ADMIN))])

SUMMARY_DAYS = 28
NameField = Annotated[str, Form(max_length=400)]
ShortField = Annotated[str, Form(max_length=64)]


@router.get("/", name="home", response_class=HTMLResponse)
def home(
    request: Request,
    current: CurrentStaff,
    session: SessionDep,
    name: str = "",
    status: str = "",
    sort: str = "name",
    alerts: str = "",
    measures: str = "",
    checkins: str = "",
    exercises: str = "",
) -> Response:
    """The caseload: a clinician's own patients, or the whole clinic for an administrator, with
    each patient's last check-in, mood, latest questionnaires and open alerts."""
    filters = OverviewFilters(
        name=name[:200],
        status=status if status in set(PatientStatus) else None,
        alerts=alerts if alerts in overview.ALERT_FILTERS else None,
        measures=measures if measures in overview.MEASURE_FILTERS else None,
        checkins=checkins if checkins in overview.CHECKIN_FILTERS else None,
        exercises=exercises if exercises in overview.EXERCISE_FILTERS else None,
    )
    sort = sort if sort in overview.SORTS else "name"
    rows = overview.overview(session, current.staff, filters, sort=sort)
    return page(
        request,
        "caseload.html",
        signed_in=current,
        rows=rows,
        sparklines={row.patient.id: charts.sparkline(row.mood) for row in rows},
        filters={
            "name": filters.name or "",
            "status": filters.status or "",
            "sort": sort,
            "alerts": filters.alerts or "",
            "measures": filters.measures or "",
            "checkins": filters.checkins or "",
            "exercises": filters.exercises or "",
        },
        filtered=filters.active,
        statuses=list(PatientStatus),
        sorts=overview.SORTS,
        alert_filters=overview.ALERT_FILTERS,
        measure_filters=overview.MEASURE_FILTERS,
        mood_days=overview.MOOD_DAYS,
        adherence_weeks=ADHERENCE_WEEKS,
        band_labels={
            code: {band.key: band.label for band in get_instrument(code).severity_bands}
            for code in overview.INSTRUMENTS
        },
        now=utcnow(),
    )


def _enrolment_form(
    request: Request,
    current: SignedIn,
    session: Session,
    *,
    values: dict[str, str],
    error: str | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "patient_new.html",
        signed_in=current,
        status=status,
        values=values,
        error=error,
        languages=LANGUAGE_NAMES,
        timezones=timezone_choices(),
        countries=country_choices(current.locale),
        clinicians=caseload.assignable_clinicians(session, current.staff) if current.is_admin else [],
    )


@router.get("/patients/new", name="patient_new", response_class=HTMLResponse)
def new_patient_form(request: Request, current: CurrentStaff, session: SessionDep) -> Response:
    clinic = current.clinic
    defaults = {
        "display_name": "",
        "locale": clinic.locale,
        "timezone": clinic.timezone,
        "country": clinic.country,
        "clinician_id": "" if current.is_admin else current.staff.id,
    }
    return _enrolment_form(request, current, session, values=defaults)


@router.post("/patients", name="patient_create", response_class=HTMLResponse)
def create_patient(
    request: Request,
    current: CurrentStaff,
    session: SessionDep,
    display_name: NameField = "",
    locale: ShortField = "",
    timezone: ShortField = "",
    country: ShortField = "",
    clinician_id: ShortField = "",
) -> Response:
    """Enrol a patient and show their invitation code, once, with the letter to print."""
    values = {
        "display_name": display_name,
        "locale": locale,
        "timezone": timezone,
        "country": country,
        "clinician_id": clinician_id,
    }
    try:
        issued = caseload.enrol_patient(
            session,
            current.staff,
            display_name=display_name,
            locale=locale,
            timezone=timezone,
            country=country,
            clinician_id=clinician_id or None,
        )
    except Invalid as exc:
        return _enrolment_form(request, current, session, values=values, error=exc.detail, status=422)
    return _invitation_page(request, current, issued, created=True)


def _invitation_page(request: Request, current: SignedIn, issued: IssuedInvitation, *, created: bool) -> Response:
    patient = issued.patient
    letter = invitation_letter(
        locale=patient.locale,
        patient_name=patient.display_name,
        clinician_name=issued.clinician_name,
        clinic_name=current.clinic.name,
        server=get_settings().base_url,
        code=issued.invite_code,
        expires_at=issued.invitation.expires_at,
        timezone=patient.timezone,
        country=patient.country,
    )
    return page(
        request,
        "invitation_issued.html",
        signed_in=current,
        patient=patient,
        invitation=issued.invitation,
        code=issued.invite_code,
        letter=letter,
        created=created,
        status=201 if created else 200,
    )


@router.get("/patients/{patient_id}", name="patient", response_class=HTMLResponse)
def patient_page(
    request: Request, patient_id: str, current: CurrentStaff, session: SessionDep, saved: str | None = None
) -> Response:
    return patient_page_response(request, current, session, patient_id, saved=saved)


def patient_page_response(
    request: Request,
    current: SignedIn,
    session: Session,
    patient_id: str,
    *,
    saved: str | None = None,
    error: str | None = None,
    status: int = 200,
    assignment_form: dict[str, str] | None = None,
) -> Response:
    """The patient's page, with a message (``saved``), a refused form's ``error`` and its values.
    Everything on it comes from one service call, in one transaction, audited once."""
    record = caseload.patient_record(session, staff=current.staff, patient_id=patient_id)
    patient = record.patient
    return page(
        request,
        "patient.html",
        signed_in=current,
        status=status,
        patient=patient,
        clinician=record.clinician,
        invitation=record.invitation,
        appointment_value=local_input_value(patient.next_appointment_at, current.clinic.timezone),
        clinicians=record.assignable_clinicians,
        languages=LANGUAGE_NAMES,
        countries=dict(country_choices(current.locale)),
        panels=load_patient_panels(record),
        # The summary's route belongs to the exports; its address is part of the outside contract.
        summary_path=portal_path(request, "patient", patient_id=patient.id) + f"/summary.pdf?days={SUMMARY_DAYS}",
        saved=saved,
        error=error,
        assignment_form=assignment_form or {"exercise_code": "", "every_days": "1", "instructions": ""},
    )


@router.post("/patients/{patient_id}/appointment", name="patient_appointment", response_class=HTMLResponse)
def set_appointment(
    request: Request,
    patient_id: str,
    current: CurrentStaff,
    session: SessionDep,
    next_appointment: ShortField = "",
    clear: ShortField = "",
) -> Response:
    try:
        when = None if clear else parse_local_datetime(next_appointment, current.clinic.timezone)
        caseload.set_next_appointment(session, current.staff, patient_id, when)
    except Invalid as exc:
        return patient_page_response(request, current, session, patient_id, error=exc.detail, status=422)
    return see_other(request, "patient", query="saved=appointment", patient_id=patient_id)


@router.post("/patients/{patient_id}/invitation/resend", name="invitation_resend", response_class=HTMLResponse)
def resend_invitation(request: Request, patient_id: str, current: CurrentStaff, session: SessionDep) -> Response:
    """A new code (the previous one stops working), shown once with a fresh letter."""
    issued = caseload.resend_invitation(session, current.staff, patient_id)
    return _invitation_page(request, current, issued, created=False)


@router.post("/patients/{patient_id}/invitation/revoke", name="invitation_revoke")
def revoke_invitation(request: Request, patient_id: str, current: CurrentStaff, session: SessionDep) -> Response:
    caseload.revoke_invitation(session, current.staff, patient_id)
    return see_other(request, "patient", query="saved=revoked", patient_id=patient_id)
