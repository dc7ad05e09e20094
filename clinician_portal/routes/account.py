"""Each staff member's ways of being reached about alerts (email, Web Push to this portal, SMS), and
the on-call rota that clinic admins keep."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from clinician_portal.deps import CurrentStaff, SessionDep, SignedIn, require_role
from clinician_portal.pages import page, see_other
from service.alerts import delivery, oncall
from service.config import get_settings
from service.errors import Forbidden, Invalid, NotFound
from service.models import Role
from service.notify.push import application_server_key

router = APIRouter(dependencies=[Depends(require_role(Role.CLINICIAN, Role.ADMIN))])
public = APIRouter()
STATIC = Path(__file__).resolve().parent.parent / "static"

Checkbox = Annotated[str, Form(max_length=8)]
Short = Annotated[str, Form(max_length=40)]
Long = Annotated[str, Form(max_length=2000)]
Key = Annotated[str, Form(max_length=200)]


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
    status: int = 200,
) -> Response:
    return page(
        request,
        "account.html",
        signed_in=current,
        status=status,
        channels=oncall.channels(session, current.staff.id),
        subscriptions=len(oncall.push_subscriptions(session, current.staff.id)),
        vapid_key=application_server_key(),
        saved=saved if saved in ("channels", "push") else None,
        error=error,
    )


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
    messages = delivery.messages_of_clinic(session, current.staff.clinic_id)
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
    rota = oncall.rota(session, current.staff)
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
