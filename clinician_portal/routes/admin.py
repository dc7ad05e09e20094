"""Clinic administration: staff accounts, reassigning patients, and the audit log."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from clinician_portal.deps import SessionDep, SignedIn, require_role
from clinician_portal.forms import day_bounds, parse_day
from clinician_portal.messages import N_
from clinician_portal.pages import page, see_other
from service import caseload
from service.audit.review import chain_status
from service.audit.search import AuditFilter, AuditPage, actions_in_clinic, search
from service.caseload import erasure
from service.config import get_settings
from service.errors import Conflict, Invalid
from service.models import AuditEvent, Role
from service.models.base import utcnow
from service.onboarding import team

router = APIRouter(dependencies=[Depends(require_role(Role.ADMIN))])
Admin = Annotated[SignedIn, Depends(require_role(Role.ADMIN))]
AUDIT_PAGE_SIZE = 50
ShortField = Annotated[str, Form(max_length=64)]


@router.post("/patients/{patient_id}/clinician", name="patient_clinician")
def change_clinician(
    request: Request,
    patient_id: str,
    current: Admin,
    session: SessionDep,
    clinician_id: Annotated[str, Form(max_length=64)],
) -> Response:
    caseload.change_clinician(session, staff=current.staff, patient_id=patient_id, clinician_id=clinician_id)
    return see_other(request, "patient", query="saved=clinician", patient_id=patient_id)


# --- staff --------------------------------------------------------------------------------------


def _team_page(
    request: Request,
    current: SignedIn,
    session: Session,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
    saved: str | None = None,
) -> Response:
    return page(
        request,
        "team.html",
        action_error=error if values is None else None,
        reset_minutes=get_settings().password_reset_ttl_minutes,
        signed_in=current,
        status=status,
        members=team.team(session, admin=current.staff),
        values=values or {"name": "", "email": "", "role": "clinician"},
        error=error if values is not None else None,
        saved=saved,
        roles=list(Role),
    )


@router.get("/staff", name="team", response_class=HTMLResponse)
def staff_list(request: Request, current: Admin, session: SessionDep, saved: str | None = None) -> Response:
    return _team_page(request, current, session, saved=saved)


@router.post("/staff", name="team_invite", response_class=HTMLResponse)
def invite(
    request: Request,
    current: Admin,
    session: SessionDep,
    name: Annotated[str, Form(max_length=400)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=16)] = "clinician",
) -> Response:
    """Create the account and show its one-time password, once."""
    try:
        made = team.invite_staff(session, admin=current.staff, email=email, name=name, role=role)
    except Invalid as exc:
        values = {"name": name, "email": email, "role": role}
        return _team_page(request, current, session, values=values, error=exc.detail, status=422)
    return page(
        request,
        "staff_invited.html",
        signed_in=current,
        member=made.staff,
        password=made.password,
        mfa_required=current.clinic.mfa_required,
        status=201,
    )


@router.post("/staff/{staff_id}/deactivate", name="staff_deactivate")
def deactivate(request: Request, staff_id: str, current: Admin, session: SessionDep) -> Response:
    team.deactivate_staff(session, admin=current.staff, staff_id=staff_id)
    return see_other(request, "team", query="saved=deactivated")


@router.post("/staff/{staff_id}/password-reset", name="staff_password_reset", response_class=HTMLResponse)
def send_password_reset(request: Request, staff_id: str, current: Admin, session: SessionDep) -> Response:
    """Email the staff member a single-use link to choose a new password."""
    try:
        team.send_password_reset(session, admin=current.staff, staff_id=staff_id)
    except Invalid as exc:
        return _team_page(request, current, session, error=exc.detail, status=422)
    return see_other(request, "team", query="saved=reset_sent")


@router.post("/staff/{staff_id}/authenticator-reset", name="staff_authenticator_reset", response_class=HTMLResponse)
def reset_authenticator(request: Request, staff_id: str, current: Admin, session: SessionDep) -> Response:
    """Forget a lost authenticator: the person sets up a new one at their next sign-in."""
    try:
        team.reset_authenticator(session, admin=current.staff, staff_id=staff_id)
    except Invalid as exc:
        return _team_page(request, current, session, error=exc.detail, status=422)
    return see_other(request, "team", query="saved=authenticator_reset")


@router.post("/staff/{staff_id}/reactivate", name="staff_reactivate")
def reactivate(request: Request, staff_id: str, current: Admin, session: SessionDep) -> Response:
    team.reactivate_staff(session, admin=current.staff, staff_id=staff_id)
    return see_other(request, "team", query="saved=reactivated")


# --- audit log ----------------------------------------------------------------------------------


@router.get("/audit", name="audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    current: Admin,
    session: SessionDep,
    actor: str = "",
    patient: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """The clinic's audit rows, newest first, filtered by who, which patient, what and when."""
    filters = {"actor": actor, "patient": patient, "action": action, "since": since, "until": until}
    try:
        start, end = day_bounds(parse_day(since), parse_day(until), current.clinic.timezone)
        found = search(
            session,
            current.staff,
            AuditFilter(
                actor_id=actor or None,
                patient_id=patient or None,
                action=action or None,
                since=start,
                until=end,
            ),
            page=page_number,
            per_page=AUDIT_PAGE_SIZE,
        )
    except Invalid as exc:
        return _audit_page(request, current, session, filters, None, error=exc.detail, status=422)
    return _audit_page(request, current, session, filters, found)


def _audit_page(
    request: Request,
    current: SignedIn,
    session: Session,
    filters: dict[str, str],
    found: AuditPage | None,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    names = team.directory(session, staff=current.staff)
    events: list[AuditEvent] = found.events if found else []
    return page(
        request,
        "audit.html",
        signed_in=current,
        status=status,
        found=found,
        events=events,
        filters=filters,
        error=error,
        actions=actions_in_clinic(session, current.clinic.id),
        staff_names=names.staff,
        patient_names=names.patients,
        page_query=lambda number: _page_query(filters, number),
    )


@router.get("/audit/checkpoints", name="audit_checkpoints", response_class=HTMLResponse)
def audit_checkpoints(request: Request, current: Admin, session: SessionDep) -> Response:
    """The audit chain's head, its key ring and its latest signed checkpoints, each compared with the table."""
    chain = chain_status(session, staff=current.staff)
    return page(request, "audit_checkpoints.html", signed_in=current, chain=chain)


def _page_query(filters: dict[str, str], number: int) -> str:
    kept = {key: value for key, value in filters.items() if value}
    return urlencode({**kept, "page": number})


# --- erasure requests (GDPR art. 17) ------------------------------------------------------------

KEEP_LABELS = {
    "legal_obligation": N_("Legal obligation to keep health records (art. 17(3)(b))"),
    "public_health": N_("Public health (art. 17(3)(c))"),
    "legal_claims": N_("Legal claims (art. 17(3)(e))"),
}


def _erasure_page(
    request: Request,
    current: SignedIn,
    session: Session,
    *,
    saved: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "erasure.html",
        signed_in=current,
        status=status,
        requests=erasure.queue(session, admin=current.staff),
        keep_labels=KEEP_LABELS,
        retention_years=current.clinic.record_retention_years,
        saved=saved if saved in ("carried_out", "kept") else None,
        error=error,
        now=utcnow(),
    )


@router.get("/erasure", name="erasure", response_class=HTMLResponse)
def erasure_queue(request: Request, current: Admin, session: SessionDep, saved: str | None = None) -> Response:
    """Clients' erasure requests, nearest deadline first (one month from the request)."""
    return _erasure_page(request, current, session, saved=saved)


@router.post("/erasure/{request_id}/carry-out", name="erasure_carry_out", response_class=HTMLResponse)
def carry_out(
    request: Request, request_id: str, current: Admin, session: SessionDep, confirm: ShortField = ""
) -> Response:
    if confirm != "erase":
        return _erasure_page(request, current, session, error=N_("tick the box to confirm the erasure"), status=422)
    try:
        erasure.carry_out(session, admin=current.staff, request_id=request_id)
    except Conflict as exc:
        return _erasure_page(request, current, session, error=exc.detail, status=409)
    return see_other(request, "erasure", query="saved=carried_out")


@router.post("/erasure/{request_id}/keep", name="erasure_keep", response_class=HTMLResponse)
def keep(request: Request, request_id: str, current: Admin, session: SessionDep, reason: ShortField = "") -> Response:
    try:
        erasure.keep(session, admin=current.staff, request_id=request_id, reason=reason)
    except Invalid as exc:
        return _erasure_page(request, current, session, error=exc.detail, status=422)
    except Conflict as exc:
        return _erasure_page(request, current, session, error=exc.detail, status=409)
    return see_other(request, "erasure", query="saved=kept")
