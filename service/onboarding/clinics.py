"""Clinics and their first administrator."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from service import audit
from service.db import unit_of_work
from service.errors import Invalid, NotFound
from service.kit.context import Actor
from service.kit.i18n import check_country, check_locale, check_timezone
from service.models import Clinic, Role
from service.onboarding.staff import NewStaff, add_staff


@dataclass(frozen=True)
class NewClinic:
    clinic: Clinic
    admin: NewStaff


def create_clinic(
    session: Session,
    *,
    name: str,
    admin_email: str,
    admin_name: str,
    locale: str = "en",
    country: str = "US",
    timezone: str = "UTC",
    mfa_required: bool = True,
    crisis_instructions: dict[str, str] | None = None,
    actor: Actor | None = None,
) -> NewClinic:
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("clinic name must be 1 to 200 characters")
    actor = actor or Actor.system("cli")
    with unit_of_work(session):
        clinic = Clinic(
            name=name,
            locale=check_locale(locale),
            country=check_country(country),
            timezone=check_timezone(timezone),
            mfa_required=mfa_required,
            crisis_instructions=crisis_instructions or {},
        )
        session.add(clinic)
        session.flush()
        audit.record(session, actor=actor, action="clinic.create", entity=clinic, clinic_id=clinic.id)
        admin = add_staff(session, clinic=clinic, email=admin_email, name=admin_name, role=Role.ADMIN, actor=actor)
    return NewClinic(clinic, admin)


def get_clinic(session: Session, *, clinic_id: str) -> Clinic:
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound(f"no clinic {clinic_id!r}")
    return clinic


def list_clinics(session: Session) -> list[Clinic]:
    """Every clinic, oldest first (the ids that `tandem staff add --clinic` and the others take)."""
    return list(session.exec(select(Clinic).order_by(col(Clinic.created_at), col(Clinic.name), col(Clinic.id))))
