"""Dependencies of the portal: the database session, the signed-in staff member, role checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from clinician_portal.web_security import csrf_for_session, session_token
from service.db import session_scope
from service.errors import Forbidden
from service.models import Clinic, PortalSession, Role, SessionStage, Staff
from service.security import staff_auth


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


class EnrolmentRequired(Exception):
    """Signed in with a password, but the account setup (new password, authenticator) is not done."""


@dataclass(frozen=True)
class SignedIn:
    """The staff member behind this request, their clinic and their portal session."""

    staff: Staff
    clinic: Clinic
    portal_session: PortalSession
    token: str

    @property
    def locale(self) -> str:
        return self.portal_session.locale or self.clinic.locale

    @property
    def csrf_token(self) -> str:
        return csrf_for_session(self.token)

    @property
    def is_admin(self) -> bool:
        return self.staff.role == Role.ADMIN


def _resolve(request: Request, session: Session) -> SignedIn:
    token = session_token(request)
    staff, portal_session = staff_auth.resolve(session, token)
    clinic = session.get(Clinic, staff.clinic_id)
    assert clinic is not None and token is not None  # foreign key; resolve() refuses a missing token
    signed_in = SignedIn(staff, clinic, portal_session, token)
    # Error pages rendered later in this request speak the same language and show the same menu.
    request.state.signed_in = signed_in
    return signed_in


def signed_in_any_stage(request: Request, session: SessionDep) -> SignedIn:
    """The signed-in staff member, even one who still has to finish setting up their account."""
    return _resolve(request, session)


def signed_in(request: Request, session: SessionDep) -> SignedIn:
    found = _resolve(request, session)
    if found.portal_session.stage == SessionStage.ENROLMENT:
        raise EnrolmentRequired
    return found


CurrentStaff = Annotated[SignedIn, Depends(signed_in)]
EnrollingStaff = Annotated[SignedIn, Depends(signed_in_any_stage)]


def require_role(*roles: Role) -> Callable[[SignedIn], SignedIn]:
    """A router dependency: only these roles get past it (rows are still filtered by the services)."""

    def check(current: CurrentStaff) -> SignedIn:
        if current.staff.role not in roles:
            raise Forbidden("this page is for clinic administrators")
        return current

    return check
