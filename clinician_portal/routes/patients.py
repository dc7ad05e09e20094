"""The caseload and one patient's page: enrolment, invitations and the next appointment."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
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
from clinician_portal.messages import N_
from clinician_portal.pages import page, portal_path, see_other
from clinician_portal.panels import load_patient_panels
from clinician_portal.web_security import ShownInvitation
from service import caseload
from service.caseload import IssuedInvitation, care, overview
from service.caseload.overview import OverviewFilters
from service.caseload.service import AlreadyEnrolled, PossibleDuplicates
from service.config import get_settings
from service.errors import Conflict, Invalid
from service.exercises.assignments import ADHERENCE_WEEKS
from service.measures.instruments import get_instrument
from service.models import DISCHARGE_REASONS, PatientContact, PatientStatus, Role
from service.models.base import utcnow
from service.onboarding import contacts
from service.onboarding.contacts import PossibleDuplicate

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
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """The caseload: a clinician's own patients, or the whole clinic for an administrator, with
    each patient's last check-in, mood, latest questionnaires and open alerts, a page at a time."""
    filters = OverviewFilters(
        name=name[:200],
        status=status if status in set(PatientStatus) else None,
        alerts=alerts if alerts in overview.ALERT_FILTERS else None,
        measures=measures if measures in overview.MEASURE_FILTERS else None,
        checkins=checkins if checkins in overview.CHECKIN_FILTERS else None,
        exercises=exercises if exercises in overview.EXERCISE_FILTERS else None,
    )
    sort = sort if sort in overview.SORTS else "name"
    shown = overview.overview_page(session, staff=current.staff, filters=filters, sort=sort, page=page_number)
    rows = shown.rows
    chosen = {"name": filters.name, "status": filters.status, "sort": sort, "alerts": filters.alerts}
    chosen |= {"measures": filters.measures, "checkins": filters.checkins, "exercises": filters.exercises}
    query = {key: str(value) for key, value in chosen.items() if value}
    return page(
        request,
        "caseload.html",
        signed_in=current,
        rows=rows,
        paging=shown,
        previous_query=urlencode({**query, "page": shown.page - 1}),
        next_query=urlencode({**query, "page": shown.page + 1}),
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
    duplicates: list[PossibleDuplicate] | None = None,
) -> Response:
    return page(
        request,
        "patient_new.html",
        signed_in=current,
        status=status,
        values=values,
        error=error,
        duplicates=duplicates or [],
        languages=LANGUAGE_NAMES,
        timezones=timezone_choices(),
        countries=country_choices(current.locale),
        clinicians=caseload.assignable_clinicians(session, staff=current.staff) if current.is_admin else [],
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
        "enrolment_key": secrets.token_urlsafe(24),
        **dict.fromkeys(CONTACT_FIELDS, ""),
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
    date_of_birth: ShortField = "",
    phone: ShortField = "",
    contact_email: NameField = "",
    enrolment_key: ShortField = "",
    confirm_duplicate: ShortField = "",
) -> Response:
    """Enrol a patient, then redirect to their invitation (post/redirect/get): the code travels to
    that page in a short-lived encrypted cookie and is shown once. Submitting the same form again
    (its hidden one-time key) leads to the same patient, never a second one."""
    values = {
        "display_name": display_name,
        "locale": locale,
        "timezone": timezone,
        "country": country,
        "clinician_id": clinician_id,
        "date_of_birth": date_of_birth,
        "phone": phone,
        "contact_email": contact_email,
        "enrolment_key": enrolment_key,
    }
    try:
        details = contacts.parse_details(
            country=country or current.clinic.country, date_of_birth=date_of_birth, phone=phone, email=contact_email
        )
        issued = caseload.enrol_patient(
            session,
            staff=current.staff,
            display_name=display_name,
            locale=locale,
            timezone=timezone,
            country=country,
            clinician_id=clinician_id or None,
            contact=details,
            enrolment_key=enrolment_key or None,
            confirmed_not_duplicate=confirm_duplicate == "yes",
        )
    except AlreadyEnrolled as exc:
        # The same form again: the same patient, and a new code when the first answer went unseen.
        response = see_other(request, "patient_invitation", query="created=1", patient_id=exc.patient.id)
        if exc.reissued is not None:
            ShownInvitation.of(exc.reissued).save(response, request)
        return response
    except PossibleDuplicates as exc:
        return _enrolment_form(request, current, session, values=values, status=409, duplicates=exc.matches)
    except Invalid as exc:
        return _enrolment_form(request, current, session, values=values, error=exc.detail, status=422)
    response = see_other(request, "patient_invitation", query="created=1", patient_id=issued.patient.id)
    ShownInvitation.of(issued).save(response, request)
    return response


@router.get("/patients/{patient_id}/invitation", name="patient_invitation", response_class=HTMLResponse)
def invitation_page(
    request: Request, patient_id: str, current: CurrentStaff, session: SessionDep, created: str | None = None
) -> Response:
    """The invitation code and letter, once: the cookie that carried the code is cleared here."""
    shown = ShownInvitation.load(request)
    issued = None
    if shown is not None and shown.patient_id == patient_id:
        issued = caseload.invitation_to_show(
            session, staff=current.staff, patient_id=patient_id, invitation_id=shown.invitation_id, code=shown.code
        )
    if issued is None:
        patient = caseload.patient_for_staff(session, staff=current.staff, patient_id=patient_id)
        return page(request, "invitation_gone.html", signed_in=current, patient=patient)
    response = _invitation_page(request, current, issued, created=bool(created))
    ShownInvitation.clear(response, request)
    return response


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
    contact_form: dict[str, str] | None = None,
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
        contact=record.contact,
        contact_form=contact_form or contact_values(record.contact),
        discharge_reasons=DISCHARGE_REASONS,
        discharge_labels=DISCHARGE_LABELS,
        contact_open=contact_form is not None,
    )


CONTACT_FIELDS = ("date_of_birth", "phone", "contact_email")
DISCHARGE_LABELS = {
    "completed": N_("Treatment completed"),
    "transferred": N_("Transferred to another service"),
    "client_request": N_("At the patient's request"),
    "no_contact": N_("No contact for a long time"),
    "other": N_("Other reason"),
}


def contact_values(contact: PatientContact | None) -> dict[str, str]:
    """The contact form's values from what is stored (the form names the contact email apart from
    the account's sign-in email)."""
    names = ("date_of_birth", "phone", "contact_times", "emergency_name", "emergency_relation", "emergency_phone")
    values = {name: (getattr(contact, name) or "") if contact else "" for name in names}
    values["contact_email"] = (contact.email or "") if contact else ""
    return values


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
        caseload.set_next_appointment(session, staff=current.staff, patient_id=patient_id, when=when)
    except Invalid as exc:
        return patient_page_response(request, current, session, patient_id, error=exc.detail, status=422)
    return see_other(request, "patient", query="saved=appointment", patient_id=patient_id)


@router.post("/patients/{patient_id}/invitation/resend", name="invitation_resend", response_class=HTMLResponse)
def resend_invitation(request: Request, patient_id: str, current: CurrentStaff, session: SessionDep) -> Response:
    """A new code (the previous one stops working), shown once with a fresh letter after a redirect."""
    issued = caseload.resend_invitation(session, staff=current.staff, patient_id=patient_id)
    response = see_other(request, "patient_invitation", patient_id=issued.patient.id)
    ShownInvitation.of(issued).save(response, request)
    return response


@router.post("/patients/{patient_id}/invitation/revoke", name="invitation_revoke")
def revoke_invitation(request: Request, patient_id: str, current: CurrentStaff, session: SessionDep) -> Response:
    caseload.revoke_invitation(session, staff=current.staff, patient_id=patient_id)
    return see_other(request, "patient", query="saved=revoked", patient_id=patient_id)


@router.post("/patients/{patient_id}/contact", name="patient_contact", response_class=HTMLResponse)
def save_contact(
    request: Request,
    patient_id: str,
    current: CurrentStaff,
    session: SessionDep,
    date_of_birth: ShortField = "",
    phone: ShortField = "",
    contact_email: NameField = "",
    contact_times: NameField = "",
    emergency_name: NameField = "",
    emergency_relation: NameField = "",
    emergency_phone: ShortField = "",
) -> Response:
    """The patient's contact details and emergency contact (stored sealed under the patient's key)."""
    form = {
        "date_of_birth": date_of_birth,
        "phone": phone,
        "contact_email": contact_email,
        "contact_times": contact_times,
        "emergency_name": emergency_name,
        "emergency_relation": emergency_relation,
        "emergency_phone": emergency_phone,
    }
    try:
        patient = caseload.patient_for_staff(session, staff=current.staff, patient_id=patient_id)
        details = contacts.parse_details(
            country=patient.country,
            date_of_birth=date_of_birth,
            phone=phone,
            email=contact_email,
            contact_times=contact_times,
            emergency_name=emergency_name,
            emergency_relation=emergency_relation,
            emergency_phone=emergency_phone,
        )
        care.save_contact(session, staff=current.staff, patient_id=patient_id, details=details)
    except (Invalid, Conflict) as exc:
        return patient_page_response(
            request, current, session, patient_id, error=exc.detail, status=422, contact_form=form
        )
    return see_other(request, "patient", query="saved=contact", patient_id=patient_id)


@router.post("/patients/{patient_id}/discharge", name="patient_discharge", response_class=HTMLResponse)
def discharge(
    request: Request, patient_id: str, current: CurrentStaff, session: SessionDep, reason: ShortField = ""
) -> Response:
    """End the patient's care: exercises end, reminders stop, the client is told in their language."""
    try:
        care.discharge(session, staff=current.staff, patient_id=patient_id, reason=reason)
    except Invalid as exc:
        return patient_page_response(request, current, session, patient_id, error=exc.detail, status=422)
    except Conflict as exc:
        return patient_page_response(request, current, session, patient_id, error=exc.detail, status=409)
    return see_other(request, "patient", query="saved=discharged", patient_id=patient_id)


@router.post("/patients/{patient_id}/reactivate", name="patient_reactivate", response_class=HTMLResponse)
def reactivate(request: Request, patient_id: str, current: CurrentStaff, session: SessionDep) -> Response:
    try:
        care.reactivate(session, staff=current.staff, patient_id=patient_id)
    except Conflict as exc:
        return patient_page_response(request, current, session, patient_id, error=exc.detail, status=409)
    return see_other(request, "patient", query="saved=reactivated", patient_id=patient_id)
