"""Staff accounts: clinicians and clinic administrators."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, select

from service import audit
from service.db import unit_of_work
from service.errors import Conflict, Invalid, NotFound
from service.kit.context import Actor
from service.models import Clinic, Role, Staff
from service.security.passwords import generate_password, hash_password


@dataclass(frozen=True)
class NewStaff:
    staff: Staff
    password: str  # one-time password, shown once


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid(f"not a valid email address: {exc}") from exc


def add_staff(
    session: Session, *, clinic: Clinic | str, email: str, name: str, role: Role | str, actor: Actor
) -> NewStaff:
    if isinstance(clinic, str):
        found = session.get(Clinic, clinic)
        if found is None:
            raise NotFound(f"no clinic {clinic!r}")
        clinic = found
    try:
        role = Role(role)
    except ValueError as exc:
        raise Invalid("role must be 'clinician' or 'admin'") from exc
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("name must be 1 to 200 characters")
    email = normalize_email(email)
    with unit_of_work(session):
        if session.exec(select(Staff.id).where(Staff.email == email)).first():
            raise Conflict("a staff account with this email already exists")
        password = generate_password()
        staff = Staff(
            clinic_id=clinic.id,
            email=email,
            name=name,
            role=role,
            password_hash=hash_password(password),
            # A clinic that requires MFA also makes people choose their own password at first login.
            password_must_change=clinic.mfa_required,
        )
        session.add(staff)
        session.flush()
        audit.record(session, actor=actor, action="staff.create", entity=staff, detail={"role": str(role)})
    return NewStaff(staff, password)


def get_staff_by_email(session: Session, *, clinic_id: str, email: str) -> Staff:
    staff = session.exec(
        select(Staff).where(Staff.email == normalize_email(email), Staff.clinic_id == clinic_id)
    ).first()
    if staff is None:
        raise NotFound(f"no staff member {email!r} in this clinic")
    return staff
