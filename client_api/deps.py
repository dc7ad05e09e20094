"""Dependencies of the client API: the database session and the signed-in client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from client_api.errors import has_client_locale, remember_client_locale
from service.db import end_read, request_session, session_scope
from service.errors import Unauthenticated
from service.models import Patient
from service.security.client_sessions import patient_behind
from service.security.tokens import AccessClaims, verify_access_token

_bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/token")


async def get_session() -> AsyncIterator[Session]:
    async with request_session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


_CLAIMS = "access_claims"  # request.state attribute: the verified claims, for client_behind_refusal


async def access_claims(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> AccessClaims:
    """The verified claims of the bearer access token (a signature check, no database read): a
    missing, forged or expired token is refused before anything else of the request is looked at."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("missing bearer access token")
    claims = verify_access_token(credentials.credentials)
    setattr(request.state, _CLAIMS, claims)
    return claims


AccessClaimsDep = Annotated[AccessClaims, Depends(access_claims)]


def signed_in_client(session: Session, *, request: Request, claims: AccessClaims) -> Patient:
    """The patient behind the request's access token, read through the request's session. A route
    calls it on its own thread when it writes at once (a check-in): the read then joins the write's
    transaction, on one connection, instead of costing a thread and a transaction of its own."""
    patient = patient_behind(session, claims=claims)
    remember_client_locale(request, patient.locale)  # error answers speak the client's language
    return patient


def current_client(request: Request, session: SessionDep, claims: AccessClaimsDep) -> Patient:
    patient = signed_in_client(session, request=request, claims=claims)
    # FastAPI runs the endpoint on another thread: hand the connection back while it waits for one.
    end_read(session)
    return patient


CurrentClient = Annotated[Patient, Depends(current_client)]


def client_behind_refusal(request: Request) -> None:
    """Before the API refuses a request's body (422), sign in its client if the route had not yet
    (``signed_in_client`` runs in the route itself, after the body is read): the refusal then speaks
    the client's language, and an ended sign-in is still answered 401 first (``Unauthenticated``
    raised here), as when the client is a dependency. No database read when the client is known."""
    claims = getattr(request.state, _CLAIMS, None)
    if claims is None or has_client_locale(request):
        return
    with session_scope() as session:
        signed_in_client(session, request=request, claims=claims)
