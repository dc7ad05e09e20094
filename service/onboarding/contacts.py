"""How the clinic reaches a patient, whom to call in an emergency, and possible duplicate enrolments.

Every detail is sealed under the patient's data key (erasure shreds it). Duplicates are found
through keyed hashes (same name and date of birth, same phone, same email), never by decrypting
other patients' details.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, col, or_, select

from service import audit
from service.crypto import blind_index
from service.db import unit_of_work
from service.errors import Invalid
from service.kit.context import Actor
from service.kit.text import fold
from service.models import Patient, PatientContact, Staff
from service.models.base import utcnow

MAX_TEXT = 200


@dataclass(frozen=True)
class ContactDetails:
    date_of_birth: date | None = None
    phone: str | None = None
    email: str | None = None
    contact_times: str | None = None
    emergency_name: str | None = None
    emergency_relation: str | None = None
    emergency_phone: str | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


@dataclass(frozen=True)
class PossibleDuplicate:
    patient: Patient
    reasons: tuple[str, ...]  # "name_and_birth_date", "phone", "email"
    visible: bool  # whether the staff member may open that patient's page


def _text(value: str | None, what: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > MAX_TEXT:
        raise Invalid(f"{what} must be at most 200 characters")
    return value


def _phone(value: str | None, country: str, what: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, country.upper())
    except phonenumbers.NumberParseException:
        raise Invalid(f"{what} is not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise Invalid(f"{what} is not a phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _email(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid("the contact email is not an email address") from None


def _birth_date(value: str | None) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        born = date.fromisoformat(value)
    except ValueError:
        raise Invalid("the date of birth is not a date") from None
    if born > utcnow().date() or born.year < 1900:
        raise Invalid("the date of birth must be a past date after 1900")
    return born


def parse_details(
    *,
    country: str,
    date_of_birth: str = "",
    phone: str = "",
    email: str = "",
    contact_times: str = "",
    emergency_name: str = "",
    emergency_relation: str = "",
    emergency_phone: str = "",
) -> ContactDetails:
    """Check what a form sent; phone numbers are read in the patient's country and kept in E.164."""
    details = ContactDetails(
        date_of_birth=_birth_date(date_of_birth),
        phone=_phone(phone, country, "the phone number"),
        email=_email(email),
        contact_times=_text(contact_times, "the preferred contact times"),
        emergency_name=_text(emergency_name, "the emergency contact's name"),
        emergency_relation=_text(emergency_relation, "the emergency contact's relation"),
        emergency_phone=_phone(emergency_phone, country, "the emergency contact's phone number"),
    )
    if (details.emergency_name or details.emergency_relation) and not details.emergency_phone:
        raise Invalid("give the emergency contact's phone number")
    return details


def _name_dob_index(display_name: str, born: date | None) -> str | None:
    return None if born is None else blind_index(f"{fold(display_name)}|{born.isoformat()}", "patient-name-dob")


def write_contact(session: Session, *, patient: Patient, details: ContactDetails) -> PatientContact:
    """Store the details in the caller's transaction (sealed under the patient's key at flush)."""
    row = session.get(PatientContact, patient.id) or PatientContact(patient_id=patient.id)
    row.date_of_birth = details.date_of_birth.isoformat() if details.date_of_birth else None
    row.phone = details.phone
    row.email = details.email
    row.contact_times = details.contact_times
    row.emergency_name = details.emergency_name
    row.emergency_relation = details.emergency_relation
    row.emergency_phone = details.emergency_phone
    row.name_dob_index = _name_dob_index(patient.display_name, details.date_of_birth)
    row.phone_index = blind_index(details.phone, "patient-phone") if details.phone else None
    row.email_index = blind_index(details.email, "patient-contact-email") if details.email else None
    row.updated_at = utcnow()
    session.add(row)
    return row


def contact_of(session: Session, *, patient_id: str) -> PatientContact | None:
    return session.get(PatientContact, patient_id)


def save_contact(session: Session, *, staff: Staff, patient: Patient, details: ContactDetails) -> PatientContact:
    """A clinician or admin (who may see ``patient``) edits the contact details; the audit row names
    the fields that changed, never their values."""
    with unit_of_work(session):
        before = contact_of(session, patient_id=patient.id)
        old = {f.name: getattr(before, f.name) for f in fields(ContactDetails)} if before else {}
        row = write_contact(session, patient=patient, details=details)
        new = {f.name: getattr(row, f.name) for f in fields(ContactDetails)}
        changed = sorted(name for name, value in new.items() if old.get(name) != value)
        audit.record(
            session,
            actor=Actor.staff(staff),
            action="patient.contact_update",
            entity=patient,
            detail={"fields": changed},
        )
    return row


def possible_duplicates(
    session: Session,
    *,
    staff: Staff,
    display_name: str,
    details: ContactDetails,
    exclude_patient_id: str | None = None,
) -> list[PossibleDuplicate]:
    """Patients of the clinic who may be the same person: same name and date of birth, or same
    contact phone or email. Erased patients are not compared (nothing of them is left to match)."""
    wanted = {
        "name_and_birth_date": _name_dob_index(display_name.strip(), details.date_of_birth),
        "phone": blind_index(details.phone, "patient-phone") if details.phone else None,
        "email": blind_index(details.email, "patient-contact-email") if details.email else None,
    }
    columns = {
        "name_and_birth_date": PatientContact.name_dob_index,
        "phone": PatientContact.phone_index,
        "email": PatientContact.email_index,
    }
    conditions = [columns[reason] == value for reason, value in wanted.items() if value]
    if not conditions:
        return []
    query = (
        select(Patient, PatientContact.name_dob_index, PatientContact.phone_index, PatientContact.email_index)
        .join(PatientContact, col(PatientContact.patient_id) == col(Patient.id))
        .where(Patient.clinic_id == staff.clinic_id, col(Patient.erased_at).is_(None), or_(*conditions))
    )
    if exclude_patient_id:
        query = query.where(Patient.id != exclude_patient_id)
    found = []
    for patient, name_dob, phone, email in session.exec(query).all():
        have = {"name_and_birth_date": name_dob, "phone": phone, "email": email}
        reasons = tuple(reason for reason, value in wanted.items() if value and have[reason] == value)
        visible = staff.role == "admin" or patient.clinician_id == staff.id
        found.append(PossibleDuplicate(patient, reasons, visible))
    return found
