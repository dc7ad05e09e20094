from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Cookie, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from client_api.deps import SessionDep
from client_api.routes.crisis import CrisisResourcesOut
from service.caseload import care
from service.config import Environment, get_settings
from service.errors import Unauthenticated
from service.kit.i18n import pick_locale
from service.onboarding import activation, password_reset, profile
from service.onboarding.schemas import ActivationIn, ErasureOut, LoginIn, RefreshIn, TokensOut
from service.security import client_sessions, rate_limits
from service.summaries.client_export import export_patient
from service.summaries.schemas import ClientExport

router = APIRouter(prefix="/auth", tags=["auth"])
T = TypeVar("T")

# The web app never sees its refresh token: the browser keeps it in this cookie, sent only to the
# refresh path. Native apps keep using the token in the body.
REFRESH_COOKIE = "tandem_refresh"
REFRESH_PATH = "/api/v1/auth/refresh"
RefreshCookie = Annotated[str | None, Cookie(alias=REFRESH_COOKIE, include_in_schema=False)]


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The refresh token; may be left out when the browser sends the refresh cookie.",
    )


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"email": "alex@example.org"}})

    email: str = Field(min_length=1, max_length=320, description="The account's email address.")


class PasswordResetConfirmIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"token": "from-the-emailed-link", "password": "a long phrase of my own"}},
    )

    token: str = Field(min_length=1, max_length=200, description="The token from the emailed link.")
    password: str = Field(min_length=1, max_length=256, description="The new password (same rules as activation).")


class AcceptedOut(BaseModel):
    detail: str


class CareEndedOut(BaseModel):
    clinic: str = Field(description="The name of the clinic that cared for the client.")
    ended_at: datetime = Field(description="When the care team ended the client's care (UTC).")
    locale: str = Field(description="The client's language (en or fr), the one `help` is written in.")
    help: CrisisResourcesOut = Field(
        description="Who to call now, for the client's country and in their language, and the clinic's own "
        "instructions (how to reach it), as `GET /crisis-resources` gives them during care."
    )


def _with_cookie(response: Response, tokens: client_sessions.Tokens) -> dict[str, object]:
    settings = get_settings()
    response.set_cookie(
        REFRESH_COOKIE,
        tokens.refresh_token,
        max_age=settings.refresh_token_ttl_days * 86400,
        path=REFRESH_PATH,
        httponly=True,
        secure=settings.uses_https or settings.env is Environment.PROD,
        samesite="strict",
    )
    return tokens.to_dict()


def _forget_cookie(response: Response) -> None:
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH, httponly=True, samesite="strict")


@router.post("/activate", status_code=201, response_model=TokensOut)
def activate(body: ActivationIn, request: Request, response: Response, session: SessionDep) -> dict[str, object]:
    """Turn an invitation into an account: email, password and acceptance of the current consent."""
    rate_limits.hit("invite_ip", rate_limits.client_address(request))
    rate_limits.hit("invite_code", body.invite_code)
    tokens = activation.activate(
        session,
        invite_code=body.invite_code,
        email=body.email,
        password=body.password,
        consent_version=body.consent_version,
    )
    return _with_cookie(response, tokens)


def _limited_like_sign_in(request: Request, body: LoginIn, attempt: Callable[[], T]) -> T:
    """An email-and-password check, limited per address, per account from one address and per
    account; only a wrong password counts against the account."""
    address = rate_limits.client_address(request)
    rate_limits.hit("client_login_ip", address)
    rate_limits.check("client_login_ip_account", address, body.email)
    rate_limits.check("client_login_account", body.email)
    try:
        return attempt()
    except Unauthenticated:
        rate_limits.hit("client_login_ip_account", address, body.email)
        rate_limits.hit("client_login_account", body.email)
        raise


@router.post("/token", response_model=TokensOut)
def token(body: LoginIn, request: Request, response: Response, session: SessionDep) -> dict[str, object]:
    """Sign in with email and password. The refresh token also comes as an HttpOnly cookie for web apps.
    Attempts are limited per address, per account from one address, and per account."""
    tokens = _limited_like_sign_in(
        request, body, lambda: client_sessions.login(session, email=body.email, password=body.password)
    )
    return _with_cookie(response, tokens)


@router.post("/export", response_model=ClientExport)
def export_after_care(body: LoginIn, request: Request, session: SessionDep) -> ClientExport:
    """All of the client's data, JSON (as `GET /me/export`), with email and password instead of a token:
    the way a client whose care has ended (discharged: their tokens no longer work) keeps their data.
    Limited like sign-in."""
    patient = _limited_like_sign_in(
        request, body, lambda: client_sessions.verify_for_export(session, email=body.email, password=body.password)
    )
    return export_patient(session, patient)


@router.post("/care-ended", response_model=CareEndedOut, response_model_exclude_none=True)
def care_ended(body: LoginIn, request: Request, session: SessionDep) -> CareEndedOut:
    """For a client whose care has ended (sign-in answers 403): which clinic, since when, and where to
    find help, with email and password instead of a token. 409 while care goes on. Limited like sign-in."""
    patient = _limited_like_sign_in(
        request, body, lambda: client_sessions.verify_for_export(session, email=body.email, password=body.password)
    )
    ended = care.after_care(session, patient=patient)
    return CareEndedOut(
        clinic=ended.clinic,
        ended_at=ended.ended_at,
        locale=pick_locale(patient.locale),
        help=CrisisResourcesOut(**ended.help),
    )


@router.post("/erasure", status_code=202, response_model=ErasureOut)
def erasure_after_care(body: LoginIn, request: Request, session: SessionDep) -> ErasureOut:
    """Ask for erasure (as `DELETE /me`) with email and password: for a client whose care has ended."""
    patient = _limited_like_sign_in(
        request, body, lambda: client_sessions.verify_for_export(session, email=body.email, password=body.password)
    )
    return profile.request_erasure(session, patient=patient)


@router.post("/refresh", response_model=TokensOut)
def refresh(
    request: Request,
    response: Response,
    session: SessionDep,
    body: RefreshBody | None = None,
    cookie: RefreshCookie = None,
) -> dict[str, object]:
    """New tokens for a refresh token (from the body, or else the cookie); the old one stops working,
    and reusing it signs out everywhere."""
    rate_limits.hit("client_refresh_ip", rate_limits.client_address(request))
    presented = (body.refresh_token if body else None) or cookie
    if not presented:
        raise Unauthenticated(client_sessions.BAD_REFRESH)
    return _with_cookie(response, client_sessions.refresh(session, refresh_token=presented))


@router.delete("/refresh", status_code=204)
def forget_refresh(session: SessionDep, cookie: RefreshCookie = None) -> Response:
    """Sign this browser out: the cookie's refresh token and its family stop working, the cookie is cleared."""
    if cookie:
        client_sessions.logout(session, refresh_token=cookie)
    response = Response(status_code=204)
    _forget_cookie(response)
    return response


@router.post("/logout", status_code=204)
def logout(body: RefreshIn, session: SessionDep) -> Response:
    """Sign out this device: its refresh token and every access token issued with it stop working."""
    client_sessions.logout(session, refresh_token=body.refresh_token)
    return Response(status_code=204)


@router.post("/password-reset", status_code=202, response_model=AcceptedOut)
def request_password_reset(body: PasswordResetIn, request: Request, session: SessionDep) -> AcceptedOut:
    """Email a single-use link to choose a new password, valid 30 minutes. The answer is the same
    whether or not the address has an account; requests are limited per address and per account."""
    rate_limits.hit("password_reset_ip", rate_limits.client_address(request))
    rate_limits.hit("password_reset_account", body.email.strip().lower())
    password_reset.request_reset(session, email=body.email)
    return AcceptedOut(detail="if this address has an account, a link to choose a new password is on its way")


@router.post("/password-reset/confirm", status_code=204)
def confirm_password_reset(body: PasswordResetConfirmIn, request: Request, session: SessionDep) -> Response:
    """Set the new password; every refresh token of the account stops working."""
    rate_limits.hit("password_reset_ip", rate_limits.client_address(request))
    password_reset.confirm_reset(session, token=body.token, password=body.password)
    return Response(status_code=204)
