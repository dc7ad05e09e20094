"""Dependencies of the client API: the database session and the signed-in client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from client_api.errors import remember_client_locale
from service.db import end_read, session_scope
from service.errors import Unauthenticated
from service.models import Patient
from service.security.client_sessions import authenticate

_bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/token")


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def current_client(
    request: Request, session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Patient:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("missing bearer access token")
    patient = authenticate(session, access_token=credentials.credentials)
    remember_client_locale(request, patient.locale)  # error answers speak the client's language
    # FastAPI runs the endpoint on another thread: hand the connection back while it waits for one.
    end_read(session)
    return patient


CurrentClient = Annotated[Patient, Depends(current_client)]
