"""A staff member who forgot their password: ask for an emailed link, then choose a new password."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from clinician_portal.deps import SessionDep
from clinician_portal.pages import page, see_other
from service.config import get_settings
from service.errors import Invalid, RateLimited
from service.onboarding import password_reset
from service.security import rate_limits

router = APIRouter()

EmailField = Annotated[str, Form(max_length=320)]
PasswordField = Annotated[str, Form(max_length=256)]
TokenField = Annotated[str, Form(max_length=128)]


def _private(response: Response) -> Response:
    # The link's token is in the address: keep it out of caches and of the Referer of any later request.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _throttled(request: Request, exc: RateLimited, template: str, **context: Any) -> Response:
    response = page(request, template, status=429, throttled=True, **context)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@router.get("/password-reset", name="password_reset", response_class=HTMLResponse)
def ask_form(request: Request, sent: bool = False) -> Response:
    return page(request, "password_reset.html", sent=sent, throttled=False, minutes=_minutes())


@router.post("/password-reset", name="password_reset_submit", response_class=HTMLResponse)
def ask(request: Request, session: SessionDep, email: EmailField = "") -> Response:
    """The same answer whether or not the address belongs to an account."""
    try:
        rate_limits.hit("password_reset_ip", rate_limits.client_address(request))
        rate_limits.hit("password_reset_account", email.strip().lower())
    except RateLimited as exc:
        return _throttled(request, exc, "password_reset.html", sent=False, minutes=_minutes())
    password_reset.request_staff_reset(session, email=email)
    return see_other(request, "password_reset", query="sent=1")


@router.get("/password-reset/new", name="password_reset_new", response_class=HTMLResponse)
def new_password_form(request: Request, session: SessionDep, token: str = "") -> Response:
    live = password_reset.staff_link_is_live(session, token=token[:128])
    return _private(
        page(
            request,
            "password_reset_new.html",
            status=200 if live else 410,
            token=token if live else "",
            live=live,
            error=None,
            minimum=get_settings().password_min_length,
            throttled=False,
        )
    )


@router.post("/password-reset/new", name="password_reset_new_submit", response_class=HTMLResponse)
def choose_new_password(
    request: Request,
    session: SessionDep,
    token: TokenField = "",
    new_password: PasswordField = "",
    confirm_password: PasswordField = "",
) -> Response:
    minimum = get_settings().password_min_length
    context: dict[str, Any] = {"token": token, "live": True, "minimum": minimum, "throttled": False}
    try:
        rate_limits.hit("password_reset_ip", rate_limits.client_address(request))
    except RateLimited as exc:
        return _private(_throttled(request, exc, "password_reset_new.html", **{**context, "error": None}))
    if new_password != confirm_password:
        return _private(page(request, "password_reset_new.html", status=422, **context, error="not_the_same"))
    try:
        password_reset.confirm_staff_reset(session, token=token, password=new_password)
    except Invalid as exc:
        if exc.detail == password_reset.INVALID_LINK:
            return _private(
                page(request, "password_reset_new.html", status=410, **{**context, "live": False, "error": None})
            )
        return _private(page(request, "password_reset_new.html", status=422, **context, error=exc.detail))
    return see_other(request, "login", query="reset=1")


def _minutes() -> int:
    return get_settings().password_reset_ttl_minutes
