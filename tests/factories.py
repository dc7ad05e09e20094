"""Plain factory functions that build real rows through the service functions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from service.kit.context import Actor
from service.models import Clinic, Patient, Staff
from service.onboarding import activation, clinics, patients, staff
from service.onboarding.consent import current_version

CLIENT_PASSWORD = "violet-harbour-compass-71"
SYSTEM = Actor.system("tests")


@dataclass
class ClinicSetup:
    clinic: Clinic
    admin: Staff
    admin_password: str
    clinician: Staff
    clinician_password: str


def create_clinic(
    session: Session,
    *,
    name: str = "Test Clinic",
    locale: str = "en",
    country: str = "US",
    timezone: str = "America/New_York",
    mfa_required: bool = False,
    slug: str | None = None,
) -> ClinicSetup:
    slug = slug or name.lower().replace(" ", "-")
    made = clinics.create_clinic(
        session,
        name=name,
        admin_email=f"admin@{slug}.example.org",
        admin_name="Ada Admin",
        locale=locale,
        country=country,
        timezone=timezone,
        mfa_required=mfa_required,
        actor=SYSTEM,
    )
    clinician = staff.add_staff(
        session,
        clinic=made.clinic,
        email=f"clinician@{slug}.example.org",
        name="Chris Clinician",
        role="clinician",
        actor=SYSTEM,
    )
    return ClinicSetup(made.clinic, made.admin.staff, made.admin.password, clinician.staff, clinician.password)


def invite_patient(
    session: Session,
    setup: ClinicSetup,
    *,
    name: str = "Pat Patient",
    locale: str | None = None,
    country: str | None = None,
    clinician: Staff | None = None,
) -> tuple[Patient, str]:
    made = patients.onboard_patient(
        session,
        clinic_id=setup.clinic.id,
        clinician=clinician or setup.clinician,
        display_name=name,
        actor=SYSTEM,
        locale=locale,
        country=country,
    )
    return made.patient, made.invite_code


def active_patient(
    session: Session, setup: ClinicSetup, *, email: str = "pat@example.org", **kwargs: object
) -> tuple[Patient, dict[str, object]]:
    """A patient who accepted consent and activated; returns the patient and their tokens."""
    patient, code = invite_patient(session, setup, **kwargs)  # type: ignore[arg-type]
    tokens = activation.activate(
        session, invite_code=code, email=email, password=CLIENT_PASSWORD, consent_version=current_version()
    )
    session.refresh(patient)
    return patient, tokens.to_dict()


def bearer(tokens: dict[str, object]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
