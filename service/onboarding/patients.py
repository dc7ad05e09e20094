"""Patients: enrolment with an invitation, and which patients a staff member may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service import audit
from service.crypto import token_digest
from service.db import unit_of_work
from service.errors import Forbidden, Invalid, NotFound
from service.kit.context import Actor
from service.kit.i18n import check_country, check_locale, check_timezone
from service.models import Clinic, Invitation, Patient, Role, Staff, patient_keys
from service.onboarding import contacts, invitations
from service.onboarding.contacts import ContactDetails


@dataclass(frozen=True)
class NewPatient:
    patient: Patient
    invitation: Invitation
    invite_code: str  # shown once

    @property
    def invite_expires_at(self) -> datetime:
        return self.invitation.expires_at


def onboard_patient(
    session: Session,
    *,
    clinic_id: str,
    clinician: Staff,
    display_name: str,
    actor: Actor,
    locale: str | None = None,
    timezone: str | None = None,
    country: str | None = None,
    contact: ContactDetails | None = None,
    enrolment_key: str | None = None,
) -> NewPatient:
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound(f"no clinic {clinic_id!r}")
    if clinician.clinic_id != clinic.id or not clinician.active:
        raise Invalid("the clinician must be an active member of this clinic")
    display_name = display_name.strip()
    if not display_name or len(display_name) > 200:
        raise Invalid("name must be 1 to 200 characters")
    with unit_of_work(session):
        patient = Patient(
            clinic_id=clinic.id,
            clinician_id=clinician.id,
            display_name=display_name,
            locale=check_locale(locale or clinic.locale),
            timezone=check_timezone(timezone or clinic.timezone),
            country=check_country(country or clinic.country),
            enrolment_key=token_digest(enrolment_key) if enrolment_key else None,
        )
        session.add(patient)
        patient_keys.create_for_new_patient(session, patient.id)
        if contact is not None and not contact.empty:
            contacts.write_contact(session, patient=patient, details=contact)
        session.flush()
        audit.record(session, actor=actor, action="patient.create", entity=patient)
        invitation, code = invitations.issue(session, patient=patient, actor=actor)
    return NewPatient(patient, invitation, code)


def enrolled_with_key(session: Session, *, clinic_id: str, enrolment_key: str) -> Patient | None:
    """The patient an enrolment form (identified by its one-time key) already created, if any."""
    return session.exec(
        select(Patient).where(Patient.clinic_id == clinic_id, Patient.enrolment_key == token_digest(enrolment_key))
    ).first()


def visible_to(staff: Staff) -> SelectOfScalar[Patient]:
    """The patients a staff member may see: the whole clinic for admins, the caseload otherwise."""
    # An erased patient is no one's any more: nothing of them is shown (their audit rows remain).
    query = select(Patient).where(Patient.clinic_id == staff.clinic_id, col(Patient.erased_at).is_(None))
    return query if staff.role == Role.ADMIN else query.where(Patient.clinician_id == staff.id)


def get_for_staff(session: Session, *, staff: Staff, patient_id: str) -> Patient:
    """One patient, if this staff member may see them; otherwise NotFound (their existence stays hidden)."""
    if not staff.active:
        raise Forbidden("this account is deactivated")
    patient = session.exec(visible_to(staff).where(Patient.id == patient_id)).first()
    if patient is None:
        raise NotFound("no such patient")
    return patient
