from __future__ import annotations

from fastapi import APIRouter, Response

from client_api.deps import SessionDep
from service.onboarding import activation
from service.onboarding.schemas import ActivationIn, LoginIn, RefreshIn, TokensOut
from service.security import client_sessions

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/activate", status_code=201, response_model=TokensOut)
def activate(body: ActivationIn, session: SessionDep) -> dict[str, object]:
    """Turn an invitation into an account: email, password and acceptance of the current consent."""
    return activation.activate(
        session,
        invite_code=body.invite_code,
        email=body.email,
        password=body.password,
        consent_version=body.consent_version,
    ).to_dict()


@router.post("/token", response_model=TokensOut)
def token(body: LoginIn, session: SessionDep) -> dict[str, object]:
    return client_sessions.login(session, email=body.email, password=body.password).to_dict()


@router.post("/refresh", response_model=TokensOut)
def refresh(body: RefreshIn, session: SessionDep) -> dict[str, object]:
    """New tokens for a refresh token; the old one stops working, and reusing it signs out everywhere."""
    return client_sessions.refresh(session, refresh_token=body.refresh_token).to_dict()


@router.post("/logout", status_code=204)
def logout(body: RefreshIn, session: SessionDep) -> Response:
    client_sessions.logout(session, refresh_token=body.refresh_token)
    return Response(status_code=204)
