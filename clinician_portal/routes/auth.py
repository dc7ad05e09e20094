"""Signing in and out: password (+ TOTP), first-login setup, single sign-on, and the language switch."""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clinician_portal import oidc
from clinician_portal.deps import EnrollingStaff, SessionDep
from clinician_portal.pages import page, portal_path, see_other
from clinician_portal.web_security import (
    FLOW_COOKIE,
    SESSION_COOKIE,
    SigninFlow,
    clear_cookie,
    safe_next,
    session_token,
    set_cookie,
)
from service.config import get_settings
from service.errors import Invalid, RateLimited, Unauthenticated
from service.kit.i18n import SUPPORTED_LOCALES
from service.models import Clinic, SessionStage
from service.security import rate_limits, staff_auth
from service.security.staff_auth import OpenedSession

log = logging.getLogger(__name__)
router = APIRouter()

EmailField = Annotated[str, Form(max_length=320)]
PasswordField = Annotated[str, Form(max_length=256)]
CodeField = Annotated[str, Form(max_length=16)]
NextField = Annotated[str, Form(max_length=2000)]


@router.get("/login", name="login", response_class=HTMLResponse)
def login_form(
    request: Request, next: str | None = None, ended: bool = False, signed_out: bool = False, reset: bool = False
) -> Response:
    return page(
        request,
        "login.html",
        next=safe_next(next, request.scope.get("root_path", "")) or "",
        notice="ended" if ended else "signed_out" if signed_out else "reset" if reset else None,
        failed=False,
        email="",
    )


@router.post("/login", name="login_submit", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    email: EmailField = "",
    password: PasswordField = "",
    totp: CodeField = "",
    next: NextField = "",
) -> Response:
    flow = SigninFlow.load(request)
    address = rate_limits.client_address(request)
    try:
        # Slows guessing from this address only: the account stays open to its owner elsewhere.
        rate_limits.hit("portal_login_ip", address)
        rate_limits.check("portal_login_failures", address, email)
    except RateLimited as exc:
        response = page(request, "login.html", status=429, failed=False, email=email, next=next, notice="throttled")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    try:
        opened = staff_auth.password_login(
            session,
            email=email,
            password=password,
            totp=totp or None,
            replacing=session_token(request),
            locale=flow.locale if flow else None,
        )
    except Unauthenticated:
        # This answer already says the sign-in failed; the next attempt from here waits.
        with suppress(RateLimited):
            rate_limits.hit("portal_login_failures", address, email)
        return page(request, "login.html", status=401, failed=True, email=email, next=next, notice=None)
    return _enter(request, opened, next)


def _enter(request: Request, opened: OpenedSession, next_path: str | None) -> RedirectResponse:
    """After a sign-in: a fresh session cookie, the sign-in flow forgotten, on to the page asked for."""
    if opened.needs_enrolment:
        target = portal_path(request, "enrol")
    else:
        target = safe_next(next_path, request.scope.get("root_path", "")) or portal_path(request, "home")
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, request, SESSION_COOKIE, opened.token)
    clear_cookie(response, request, FLOW_COOKIE)
    return response


@router.post("/logout", name="logout")
def logout(request: Request, session: SessionDep) -> Response:
    staff_auth.logout(session, token=session_token(request))
    response = see_other(request, "login", query="signed_out=1")
    clear_cookie(response, request, SESSION_COOKIE)
    return response


@router.get("/enrol", name="enrol", response_class=HTMLResponse)
def enrol_form(request: Request, current: EnrollingStaff, session: SessionDep) -> Response:
    if current.stage == SessionStage.ACTIVE:
        return see_other(request, "home")
    plan = staff_auth.enrolment(session, staff=current.staff)
    return page(request, "enrol.html", signed_in=current, plan=plan, error=None)


@router.post("/enrol", name="enrol_submit", response_class=HTMLResponse)
def enrol_submit(
    request: Request,
    current: EnrollingStaff,
    session: SessionDep,
    new_password: PasswordField = "",
    confirm_password: PasswordField = "",
    totp: CodeField = "",
) -> Response:
    if current.stage == SessionStage.ACTIVE:
        return see_other(request, "home")
    plan = staff_auth.enrolment(session, staff=current.staff)
    error: str | None = None
    minimum = get_settings().password_min_length
    if plan.needs_password and new_password != confirm_password:
        error = "The two passwords are not the same."
    elif plan.needs_password and len(new_password) < minimum:
        error = "too_short"
    else:
        try:
            opened = staff_auth.complete_enrolment(
                session, token=current.token, new_password=new_password or None, totp=totp or None
            )
        except Invalid as exc:
            error = exc.detail
        else:
            if opened.recovery_codes:
                return _show_recovery_codes(request, opened)
            return _enter(request, opened, None)
    return page(request, "enrol.html", signed_in=current, plan=plan, error=error, minimum=minimum, status=422)


def _show_recovery_codes(request: Request, opened: OpenedSession) -> Response:
    """The account is set up: its recovery codes, shown once, with the new session's cookie."""
    response = page(request, "recovery_codes.html", codes=list(opened.recovery_codes), after_setup=True, status=201)
    set_cookie(response, request, SESSION_COOKIE, opened.token)
    clear_cookie(response, request, FLOW_COOKIE)
    return response


@router.post("/language", name="language")
def switch_language(
    request: Request,
    session: SessionDep,
    locale: Annotated[str, Form(max_length=8)],
    next: NextField = "",
) -> Response:
    """Remember the language picked: on the session when signed in, in the sign-in cookie otherwise."""
    if locale not in SUPPORTED_LOCALES:
        raise Invalid("this language is not available")
    target = safe_next(next, request.scope.get("root_path", "")) or portal_path(request, "home")
    response = RedirectResponse(target, status_code=303)
    try:
        _, portal_session = staff_auth.resolve(session, token=session_token(request))
    except Unauthenticated:
        flow = SigninFlow.load_or_new(request)
        flow.locale = locale
        flow.save(response, request)
    else:
        staff_auth.set_locale(session, portal_session=portal_session, locale=locale)
    return response


# --- single sign-on ---------------------------------------------------------------------------


def _redirect_uri(request: Request) -> str:
    # Built from the configured public address, never from the Host header a client sent.
    return get_settings().base_url.rstrip("/") + portal_path(request, "oidc_callback")


@router.get("/login/oidc", name="oidc_start", response_class=HTMLResponse)
def oidc_start(request: Request, session: SessionDep, clinic: str | None = None, next: str | None = None) -> Response:
    """Send the browser to the identity provider (or explain that single sign-on is not set up)."""
    rate_limits.hit("portal_login_ip", rate_limits.client_address(request))
    provider = oidc.provider_for(session.get(Clinic, clinic) if clinic else None)
    if provider is None:
        return page(request, "sso_unavailable.html")
    try:
        url, remembered = oidc.start(provider, _redirect_uri(request))
    except oidc.ProviderUnreachable as exc:
        log.warning("identity provider unreachable at sign-in start: %s", exc)
        return page(request, "sso_failed.html", status=502, problem="unreachable")
    except oidc.SingleSignOnFailed as exc:
        log.warning("single sign-on misconfigured: %s", exc.reason)
        return page(request, "sso_failed.html", status=502, problem="misconfigured")
    flow = SigninFlow.load_or_new(request)
    flow.oidc = {**remembered, "next": safe_next(next, request.scope.get("root_path", ""))}
    response = RedirectResponse(url, status_code=302)
    flow.save(response, request)
    return response


@router.get("/login/oidc/callback", name="oidc_callback", response_class=HTMLResponse)
def oidc_callback(request: Request, session: SessionDep) -> Response:
    rate_limits.hit("portal_login_ip", rate_limits.client_address(request))
    flow = SigninFlow.load(request)
    if flow is None or not flow.oidc:
        return page(request, "sso_failed.html", status=400, problem="expired")
    remembered, flow.oidc = flow.oidc, None
    clinic_id = remembered.get("clinic_id")
    provider = oidc.provider_for(session.get(Clinic, clinic_id) if clinic_id else None)
    try:
        if provider is None:
            raise oidc.SingleSignOnFailed("not_configured")
        identity = oidc.finish(provider, remembered, request.query_params)
        opened = staff_auth.oidc_login(
            session,
            identity=identity,
            clinic_id=provider.clinic_id,
            replacing=session_token(request),
            locale=flow.locale,
        )
    except oidc.ProviderUnreachable as exc:
        log.warning("identity provider unreachable at sign-in end: %s", exc)
        response = page(request, "sso_failed.html", status=502, problem="unreachable")
    except oidc.SingleSignOnFailed as exc:
        log.warning("single sign-on refused: %s", exc.reason)
        response = page(request, "sso_failed.html", status=400, problem="invalid")
    except Unauthenticated:
        response = page(request, "sso_failed.html", status=403, problem="unknown")
    else:
        return _enter(request, opened, remembered.get("next"))
    flow.save(response, request)  # the request in progress is spent either way
    return response
