from __future__ import annotations

from fastapi import APIRouter, Request, Response

from client_api.deps import SessionDep
from service.errors import Unauthenticated
from service.onboarding import activation
from service.onboarding.schemas import ActivationIn, LoginIn, RefreshIn, TokensOut
from service.security import client_sessions, rate_limits

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/activate", status_code=201, response_model=TokensOut)
def activate(body: ActivationIn, request: Request, session: SessionDep) -> dict[str, object]:
    """Turn an invitation into an account: email, password and acceptance of the current consent."""
    rate_limits.hit("invite_ip", rate_limits.client_address(request))
    rate_limits.hit("invite_code", body.invite_code)
    return activation.activate(
        session,
        invite_code=body.invite_code,
        email=body.email,
        password=body.password,
        consent_version=body.consent_version,
    ).to_dict()


@router.post("/token", response_model=TokensOut)
def token(body: LoginIn, request: Request, session: SessionDep) -> dict[str, object]:
    """Sign in. Attempts are limited per address, per account from one address, and per account."""
    address = rate_limits.client_address(request)
    rate_limits.hit("client_login_ip", address)
    rate_limits.check("client_login_ip_account", address, body.email)
    rate_limits.check("client_login_account", body.email)
    try:
        return client_sessions.login(session, email=body.email, password=body.password).to_dict()
    except Unauthenticated:
        rate_limits.hit("client_login_ip_account", address, body.email)
        rate_limits.hit("client_login_account", body.email)
        raise


@router.post("/refresh", response_model=TokensOut)
def refresh(body: RefreshIn, request: Request, session: SessionDep) -> dict[str, object]:
    """New tokens for a refresh token; the old one stops working, and reusing it signs out everywhere."""
    rate_limits.hit("client_refresh_ip", rate_limits.client_address(request))
    return client_sessions.refresh(session, refresh_token=body.refresh_token).to_dict()


@router.post("/logout", status_code=204)
def logout(body: RefreshIn, session: SessionDep) -> Response:
    """Sign out this device: its refresh token and every access token issued with it stop working."""
    client_sessions.logout(session, refresh_token=body.refresh_token)
    return Response(status_code=204)
