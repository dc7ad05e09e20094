"""Dependencies of the portal: the database session, the signed-in staff member, role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from clinician_portal.web_security import csrf_for_session, session_token
from service.alerts import delivery, lifecycle
from service.db import end_read, request_session
from service.errors import Forbidden
from service.models import Clinic, PortalSession, Role, SessionStage, Severity, Staff
from service.security import staff_auth


async def get_session() -> AsyncIterator[Session]:
    async with request_session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


class EnrolmentRequired(Exception):
    """Signed in with a password, but the account setup (new password, authenticator) is not done."""


@dataclass(frozen=True)
class SignedIn:
    """The staff member behind this request, their clinic and their portal session.

    ``staff``, ``clinic`` and ``portal_session`` are for service calls. Pages read the plain values
    copied below, which stay readable even after a failed transaction expired the rows (error pages).
    """

    staff: Staff
    clinic: Clinic
    portal_session: PortalSession
    token: str
    staff_id: str
    name: str
    role: Role
    clinic_name: str
    timezone: str  # the clinic's: times on portal pages are clinic times
    country: str  # the clinic's: dates are written the way people there write them
    locale: str  # the language switch of this session, else the clinic's language
    stage: SessionStage
    # Unresolved alerts this staff member may see, by severity: the badge of the menu.
    open_alerts: dict[Severity, int] = field(default_factory=dict)
    # For admins: outgoing channels (email, staff_push) failing now: the banner on every page.
    failing_channels: tuple[str, ...] = ()
    # Urgent alerts nobody acknowledged: the tab's title and icon say so until someone does.
    urgent_unacknowledged: int = 0

    @classmethod
    def of(
        cls,
        staff: Staff,
        clinic: Clinic,
        portal_session: PortalSession,
        token: str,
        open_alerts: dict[Severity, int] | None = None,
        failing_channels: tuple[str, ...] = (),
        urgent_unacknowledged: int = 0,
    ) -> SignedIn:
        return cls(
            staff=staff,
            clinic=clinic,
            portal_session=portal_session,
            token=token,
            staff_id=staff.id,
            name=staff.name,
            role=Role(staff.role),
            clinic_name=clinic.name,
            timezone=clinic.timezone,
            country=clinic.country,
            locale=portal_session.locale or clinic.locale,
            stage=SessionStage(portal_session.stage),
            open_alerts=open_alerts or {},
            failing_channels=failing_channels,
            urgent_unacknowledged=urgent_unacknowledged,
        )

    @property
    def csrf_token(self) -> str:
        return csrf_for_session(self.token)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def setting_up(self) -> bool:
        return self.stage == SessionStage.ENROLMENT

    @property
    def open_alert_total(self) -> int:
        return sum(self.open_alerts.values())

    @property
    def open_alert_top(self) -> Severity | None:
        """The most severe open alert's severity, which colours the badge."""
        present = [severity for severity, count in self.open_alerts.items() if count]
        return max(present, key=lambda s: s.rank) if present else None


def _resolve(request: Request, session: Session, *, touch: bool = True) -> SignedIn:
    token = session_token(request)
    staff, portal_session = staff_auth.resolve(session, token=token, touch=touch)
    clinic = session.get(Clinic, staff.clinic_id)
    assert clinic is not None and token is not None  # foreign key; resolve() refuses a missing token
    active = portal_session.stage == SessionStage.ACTIVE
    counts = lifecycle.open_counts(session, staff=staff) if active else None
    failing = (
        tuple(delivery.failing_channels(session, clinic_id=clinic.id)) if active and staff.role == Role.ADMIN else ()
    )
    urgent = (
        lifecycle.unacknowledged_urgent(session, staff=staff)
        if active and counts and counts.get(Severity.URGENT)
        else 0
    )
    signed_in = SignedIn.of(staff, clinic, portal_session, token, counts, failing, urgent)
    # Error pages rendered later in this request speak the same language and show the same menu.
    request.state.signed_in = signed_in
    # The page runs on another thread: hand the connection back while it waits for one.
    end_read(session)
    return signed_in


def signed_in_any_stage(request: Request, session: SessionDep) -> SignedIn:
    """The signed-in staff member, even one who still has to finish setting up their account."""
    return _resolve(request, session)


def signed_in(request: Request, session: SessionDep) -> SignedIn:
    found = _resolve(request, session)
    if found.setting_up:
        raise EnrolmentRequired
    return found


def signed_in_quietly(request: Request, session: SessionDep) -> SignedIn:
    """Like ``signed_in``, for requests a page makes on its own (refreshing the live alert rows):
    they do not count as activity, so an unattended page still lets the session end when idle."""
    found = _resolve(request, session, touch=False)
    if found.setting_up:
        raise EnrolmentRequired
    return found


CurrentStaff = Annotated[SignedIn, Depends(signed_in)]
QuietStaff = Annotated[SignedIn, Depends(signed_in_quietly)]
EnrollingStaff = Annotated[SignedIn, Depends(signed_in_any_stage)]


def require_role(*roles: Role) -> Callable[[SignedIn], SignedIn]:
    """A router dependency: only these roles get past it (rows are still filtered by the services)."""

    def check(current: CurrentStaff) -> SignedIn:
        if current.staff.role not in roles:
            raise Forbidden("this page is for clinic administrators")
        return current

    return check
