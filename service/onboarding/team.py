"""A clinic administrator's view of the clinic's staff: list, invite, reset a password or an
authenticator, deactivate and reactivate."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from service import audit
from service.db import unit_of_work
from service.errors import Forbidden, Invalid, NotFound
from service.kit.context import Actor
from service.kit.text import fold
from service.models import Patient, PatientStatus, Role, Staff
from service.onboarding import password_reset
from service.onboarding.accounts import SSO_ACCOUNT, is_sso
from service.onboarding.patients import visible_to
from service.onboarding.staff import NewStaff, add_staff, normalize_email
from service.security import staff_auth


@dataclass(frozen=True)
class TeamMember:
    staff: Staff
    patients: int  # patients not yet discharged

    @property
    def sign_in(self) -> str:
        """How the person signs in, as a short code the portal turns into words."""
        if self.staff.oidc_subject:
            return "sso"
        return "password_totp" if self.staff.totp_confirmed_at else "password"


@dataclass(frozen=True)
class Directory:
    """Names by id, ordered by name: what turns the ids of an audit page back into people."""

    staff: dict[str, str]
    patients: dict[str, str]


def directory(session: Session, *, staff: Staff) -> Directory:
    """The clinic's staff, and the patients this staff member may see."""
    members = session.exec(select(Staff).where(Staff.clinic_id == staff.clinic_id)).all()
    patients = session.exec(visible_to(staff)).all()
    return Directory(
        staff={s.id: s.name for s in sorted(members, key=lambda s: fold(s.name))},
        patients={p.id: p.display_name for p in sorted(patients, key=lambda p: fold(p.display_name))},
    )


def _require_admin(staff: Staff) -> None:
    if not staff.active or staff.role != Role.ADMIN:
        raise Forbidden("only a clinic administrator can manage staff")


def team(session: Session, *, admin: Staff) -> list[TeamMember]:
    """The clinic's staff, active first, then by name, with the size of each caseload."""
    _require_admin(admin)
    members = session.exec(select(Staff).where(Staff.clinic_id == admin.clinic_id)).all()
    counts = dict(
        session.exec(
            select(Patient.clinician_id, func.count())
            .where(Patient.clinic_id == admin.clinic_id, Patient.status != PatientStatus.DISCHARGED)
            .group_by(col(Patient.clinician_id))
        ).all()
    )
    ordered = sorted(members, key=lambda s: (not s.active, s.name.casefold()))
    return [TeamMember(s, int(counts.get(s.id, 0))) for s in ordered]


def invite_staff(session: Session, *, admin: Staff, email: str, name: str, role: Role | str) -> NewStaff:
    """A new account in the admin's clinic, with a one-time password to hand over once."""
    _require_admin(admin)
    try:
        normalize_email(email)
    except Invalid as exc:
        raise Invalid("this is not a valid email address") from exc
    return add_staff(session, clinic=admin.clinic_id, email=email, name=name, role=role, actor=Actor.staff(admin))


def _member(session: Session, admin: Staff, staff_id: str) -> Staff:
    member = session.get(Staff, staff_id)
    if member is None or member.clinic_id != admin.clinic_id:
        raise NotFound("no such staff member")
    return member


def deactivate_staff(session: Session, *, admin: Staff, staff_id: str) -> Staff:
    """Close an account: it can no longer sign in, and every open session ends now."""
    _require_admin(admin)
    with unit_of_work(session):
        member = _member(session, admin, staff_id)
        if member.id == admin.id:
            raise Invalid("you cannot deactivate your own account")
        ended = staff_auth.revoke_all(session, staff_id=member.id)
        if member.active:
            member.active = False
            session.add(member)
            audit.record(
                session, actor=Actor.staff(admin), action="staff.deactivate", entity=member, detail={"sessions": ended}
            )
    return member


def reactivate_staff(session: Session, *, admin: Staff, staff_id: str) -> Staff:
    _require_admin(admin)
    with unit_of_work(session):
        member = _member(session, admin, staff_id)
        if not member.active:
            member.active = True
            member.failed_logins = 0
            member.locked_until = None
            session.add(member)
            audit.record(session, actor=Actor.staff(admin), action="staff.reactivate", entity=member)
    return member


def send_password_reset(session: Session, *, admin: Staff, staff_id: str) -> Staff:
    """Email the staff member a single-use link to choose a new password (their current one keeps
    working until they use it). Accounts that sign in with single sign-on have no local password."""
    _require_admin(admin)
    with unit_of_work(session):
        member = _member(session, admin, staff_id)
        if not member.active:
            raise Invalid("reactivate the account first")
        if is_sso(member):
            raise Invalid(SSO_ACCOUNT)
        password_reset.send_staff_link(session, staff=member, requested_by=admin)
        audit.record(session, actor=Actor.staff(admin), action="staff.password_reset_sent", entity=member)
    return member


def reset_authenticator(session: Session, *, admin: Staff, staff_id: str) -> Staff:
    """Forget the staff member's authenticator and recovery codes (a lost phone): every session of
    theirs ends, and where the clinic requires codes they set up a new one at their next sign-in."""
    _require_admin(admin)
    with unit_of_work(session):
        member = _member(session, admin, staff_id)
        if is_sso(member):
            raise Invalid(SSO_ACCOUNT)
        if member.id == admin.id:
            raise Invalid("reset your own authenticator from your account page")
        had = member.totp_confirmed_at is not None
        member.totp_secret = None
        member.totp_pending_secret = None
        member.totp_confirmed_at = None
        member.recovery_codes = []
        session.add(member)
        ended = staff_auth.revoke_all(session, staff_id=member.id)
        audit.record(
            session,
            actor=Actor.staff(admin),
            action="staff.mfa_reset",
            entity=member,
            detail={"by": "admin", "had_authenticator": had, "sessions": ended},
        )
    return member
