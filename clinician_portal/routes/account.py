"""A staff member's own account (password, authenticator and recovery codes, language, and the ways
of being reached about alerts: email, Web Push to this portal, SMS), and the on-call rota that
clinic admins keep."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from clinician_portal.deps import CurrentStaff, SessionDep, SignedIn, require_role
from clinician_portal.forms import LANGUAGE_NAMES
from clinician_portal.pages import page, see_other
from service.alerts import delivery, oncall
from service.config import get_settings
from service.errors import Forbidden, Invalid, NotFound, Unauthenticated
from service.models import Role
from service.notify.push import application_server_key
from service.onboarding import accounts

router = APIRouter(dependencies=[Depends(require_role(Role.CLINICIAN, Role.ADMIN))])
public = APIRouter()
STATIC = Path(__file__).resolve().parent.parent / "static"

Checkbox = Annotated[str, Form(max_length=8)]
Short = Annotated[str, Form(max_length=40)]
Long = Annotated[str, Form(max_length=2000)]
Key = Annotated[str, Form(max_length=200)]
PasswordField = Annotated[str, Form(max_length=256)]
CodeField = Annotated[str, Form(max_length=16)]
SAVED = ("channels", "push", "password", "language", "authenticator_cancelled")


@public.get("/sw.js", name="portal_worker", include_in_schema=False)
def service_worker() -> Response:
    """The portal's service worker, served at the portal's root so its scope is the whole portal."""
    return Response(
        (STATIC / "portal-sw.js").read_text(encoding="utf-8"),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


@public.get("/manifest.webmanifest", name="portal_manifest", include_in_schema=False)
def manifest(request: Request) -> Response:
    """What makes the portal installable: its name, start page and icon."""
    root = request.scope.get("root_path", "")
    body = (
        '{"name": "Tandem portal", "short_name": "Tandem", "display": "standalone", '
        f'"start_url": "{root}/alerts", "scope": "{root}/", '
        f'"icons": [{{"src": "{root}/static/favicon.svg", "sizes": "any", "type": "image/svg+xml"}}]}}'
    )
    return Response(body, media_type="application/manifest+json")


@router.get("/account", name="account", response_class=HTMLResponse)
def account_page(request: Request, current: CurrentStaff, session: SessionDep, saved: str | None = None) -> Response:
    return _account(request, current, session, saved=saved)


def _account(
    request: Request,
    current: SignedIn,
    session: Session,
    *,
    saved: str | None = None,
    error: str | None = None,
    error_in: str = "channels",
    status: int = 200,
) -> Response:
    staff = current.staff
    return page(
        request,
        "account.html",
        signed_in=current,
        status=status,
        channels=oncall.channels(session, staff_id=staff.id),
        subscriptions=len(oncall.push_subscriptions(session, staff_id=staff.id)),
        vapid_key=application_server_key(),
        saved=saved if saved in SAVED else None,
        error=error,
        error_in=error_in,
        sso=accounts.is_sso(staff),
        has_authenticator=staff.totp_confirmed_at is not None,
        recovery_left=len(staff.recovery_codes or []),
        mfa_required=current.clinic.mfa_required,
        languages=LANGUAGE_NAMES,
        chosen_language=staff.locale or "",
        minimum=get_settings().password_min_length,
    )


@router.post("/account/password", name="account_password", response_class=HTMLResponse)
def change_password(
    request: Request,
    current: CurrentStaff,
    session: SessionDep,
    current_password: PasswordField = "",
    new_password: PasswordField = "",
    confirm_password: PasswordField = "",
) -> Response:
    """A new password, the current one required; the person's other sessions end."""
    try:
        accounts.change_password(
            session,
            staff=current.staff,
            keep=current.portal_session,
            current=current_password,
            new=new_password,
            confirm=confirm_password,
        )
    except (Invalid, Unauthenticated) as exc:
        return _account(request, current, session, error=exc.detail, error_in="password", status=422)
    return see_other(request, "account", query="saved=password")


@router.post("/account/language", name="account_language", response_class=HTMLResponse)
def choose_language(
    request: Request, current: CurrentStaff, session: SessionDep, locale: Annotated[str, Form(max_length=8)] = ""
) -> Response:
    try:
        accounts.set_language(session, staff=current.staff, portal_session=current.portal_session, locale=locale)
    except Invalid:
        return _account(
            request, current, session, error="choose a language from the list", error_in="language", status=422
        )
    return see_other(request, "account", query="saved=language")


@router.post("/account/authenticator", name="account_authenticator_start")
def start_authenticator(request: Request, current: CurrentStaff, session: SessionDep) -> Response:
    """Set up (or replace) the authenticator app: a new secret, confirmed by a code on the next page."""
    accounts.start_authenticator(session, staff=current.staff)
    return see_other(request, "account_authenticator")


@router.get("/account/authenticator", name="account_authenticator", response_class=HTMLResponse)
def authenticator_page(request: Request, current: CurrentStaff, session: SessionDep) -> Response:
    return _authenticator(request, current, session)


def _authenticator(
    request: Request, current: SignedIn, session: Session, *, error: str | None = None, status: int = 200
) -> Response:
    pending = accounts.pending_authenticator(session, staff=current.staff)
    if pending is None:
        return see_other(request, "account")
    return page(
        request,
        "account_authenticator.html",
        signed_in=current,
        status=status,
        pending=pending,
        replacing=current.staff.totp_confirmed_at is not None,
        error=error,
    )


@router.post("/account/authenticator/confirm", name="account_authenticator_confirm", response_class=HTMLResponse)
def confirm_authenticator(
    request: Request, current: CurrentStaff, session: SessionDep, totp: CodeField = ""
) -> Response:
    try:
        codes = accounts.confirm_authenticator(session, staff=current.staff, code=totp)
    except Invalid as exc:
        if exc.detail == accounts.NO_PENDING:
            return see_other(request, "account")
        return _authenticator(request, current, session, error=exc.detail, status=422)
    return page(request, "recovery_codes.html", signed_in=current, codes=codes, status=201)


@router.post("/account/authenticator/cancel", name="account_authenticator_cancel")
def cancel_authenticator(request: Request, current: CurrentStaff, session: SessionDep) -> Response:
    accounts.cancel_authenticator(session, staff=current.staff)
    return see_other(request, "account", query="saved=authenticator_cancelled")


@router.post("/account/recovery-codes", name="account_recovery_codes", response_class=HTMLResponse)
def new_recovery_codes(
    request: Request, current: CurrentStaff, session: SessionDep, current_password: PasswordField = ""
) -> Response:
    """A new set of recovery codes, shown once; the old ones stop working."""
    try:
        codes = accounts.new_recovery_codes(session, staff=current.staff, current=current_password)
    except (Invalid, Unauthenticated) as exc:
        return _account(request, current, session, error=exc.detail, error_in="recovery", status=422)
    return page(request, "recovery_codes.html", signed_in=current, codes=codes, status=201)


@router.post("/account/channels", name="account_channels", response_class=HTMLResponse)
def save_channels(
    request: Request,
    current: CurrentStaff,
    session: SessionDep,
    email: Checkbox = "",
    push: Checkbox = "",
    sms: Checkbox = "",
    sms_number: Short = "",
    routine_digest: Checkbox = "",
) -> Response:
    try:
        oncall.save_channels(
            session,
            staff=current.staff,
            email=bool(email),
            push=bool(push),
            sms=bool(sms),
            sms_number=sms_number,
            routine_digest=bool(routine_digest),
        )
    except Invalid as exc:
        return _account(request, current, session, error=exc.detail, status=422)
    return see_other(request, "account", query="saved=channels")


@router.post("/account/push", name="account_push", response_class=HTMLResponse)
def subscribe_push(
    request: Request,
    current: CurrentStaff,
    session: SessionDep,
    endpoint: Long = "",
    p256dh: Key = "",
    auth: Key = "",
) -> Response:
    """This browser's push subscription, posted by portal.js after the person allows notifications."""
    try:
        oncall.subscribe_push(session, staff=current.staff, endpoint=endpoint, p256dh=p256dh, auth=auth)
    except Invalid as exc:
        return _account(request, current, session, error=exc.detail, status=422)
    return see_other(request, "account", query="saved=push")


@router.post("/session/keepalive", name="keepalive")
def keep_alive(current: CurrentStaff) -> Response:
    """ "Stay signed in": the person answered the idle warning, which counts as activity."""
    return Response(status_code=204)


@router.get("/demo/messages", name="demo_messages", response_class=HTMLResponse)
def demo_messages(request: Request, current: CurrentStaff, session: SessionDep) -> Response:
    """Demo only (`tandem demo`): the emails and push messages Tandem sent, so the chain is visible."""
    if not get_settings().demo_mode:
        raise NotFound("this page exists only in the demo")
    messages = delivery.messages_of_clinic(session, clinic_id=current.staff.clinic_id)
    return page(request, "demo_messages.html", signed_in=current, messages=messages)


# --- the on-call rota (admins) ----------------------------------------------------------------


@router.get("/oncall", name="oncall", response_class=HTMLResponse)
def rota_page(request: Request, current: CurrentStaff, session: SessionDep, saved: str | None = None) -> Response:
    return _rota(request, current, session, saved=saved)


def _rota(
    request: Request,
    current: SignedIn,
    session: Session,
    *,
    saved: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    if not current.is_admin:
        raise Forbidden("only a clinic administrator can change the on-call rota")
    rota = oncall.rota(session, staff=current.staff)
    return page(
        request,
        "oncall.html",
        signed_in=current,
        status=status,
        rota=rota,
        staff=rota.candidates,
        saved=saved if saved in ("added", "removed") else None,
        error=error,
    )


@router.post("/oncall", name="oncall_add", response_class=HTMLResponse)
def add_shift(
    request: Request,
    current: CurrentStaff,
    session: SessionDep,
    staff_id: Short = "",
    starts: Short = "",
    ends: Short = "",
) -> Response:
    try:
        try:
            starts_local, ends_local = datetime.fromisoformat(starts), datetime.fromisoformat(ends)
        except ValueError:
            raise Invalid("give the start and end of the shift as a date and time") from None
        if starts_local.tzinfo or ends_local.tzinfo:
            raise Invalid("give the start and end of the shift as a date and time")
        oncall.add_shift(
            session, admin=current.staff, staff_id=staff_id, starts_local=starts_local, ends_local=ends_local
        )
    except Invalid as exc:
        return _rota(request, current, session, error=exc.detail, status=422)
    return see_other(request, "oncall", query="saved=added")


@router.post("/oncall/{shift_id}/remove", name="oncall_remove", response_class=HTMLResponse)
def remove_shift(request: Request, shift_id: str, current: CurrentStaff, session: SessionDep) -> Response:
    oncall.remove_shift(session, admin=current.staff, shift_id=shift_id)
    return see_other(request, "oncall", query="saved=removed")
