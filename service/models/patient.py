from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.base import EncryptedText, UTCDateTime, new_id, utcnow


class PatientStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    PAUSED = "paused"
    DISCHARGED = "discharged"


class Patient(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    clinic_id: str = Field(foreign_key="clinic.id", index=True, max_length=36)
    clinician_id: str = Field(foreign_key="staff.id", index=True, max_length=36)
    display_name: str = Field(sa_column=Column(EncryptedText("patient.display_name"), nullable=False))
    email: str | None = Field(default=None, sa_column=Column(EncryptedText("patient.email")))
    # Keyed hash of the lower-cased email, to find an account without decrypting every row.
    email_index: str | None = Field(default=None, sa_column=Column(String(64), unique=True))
    password_hash: str | None = Field(default=None, max_length=200)
    locale: str = Field(default="en", max_length=8)
    timezone: str = Field(default="UTC", max_length=64)
    country: str = Field(default="US", max_length=2)
    status: PatientStatus = Field(default=PatientStatus.INVITED, sa_type=String(16))
    missed_checkin_days: int = 3
    next_appointment_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    erasure_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Discharge: when and why (a code of DISCHARGE_REASONS); cleared on re-activation.
    discharged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    discharge_reason: str | None = Field(default=None, max_length=32)
    # When the erasure was carried out: the data key is destroyed and identifiers removed.
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Hash of the enrolment form's one-time key: submitting the same form twice enrols one patient.
    enrolment_key: str | None = Field(default=None, sa_column=Column(String(64), unique=True, index=True))


DISCHARGE_REASONS = ("completed", "transferred", "client_request", "no_contact", "other")


class PatientKey(SQLModel, table=True):
    """The patient's data key, wrapped by the key ring. Erasure sets ``wrapped_key`` to NULL: the
    patient's sealed text, wherever a copy of it is, can no longer be read."""

    __tablename__ = "patient_key"

    patient_id: str = Field(sa_column=Column(String(36), ForeignKey("patient.id"), primary_key=True))
    wrapped_key: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    destroyed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def _sealed(context: str) -> Column:  # type: ignore[type-arg]
    return Column(EncryptedText(context, per_patient=True))


class PatientContact(SQLModel, table=True):
    """How the clinic reaches the patient (not their sign-in email) and whom to call in an emergency.
    Every detail is sealed under the patient's data key; the indexes are keyed hashes that find a
    possible duplicate without decrypting anyone's details."""

    __tablename__ = "patient_contact"

    patient_id: str = Field(sa_column=Column(String(36), ForeignKey("patient.id"), primary_key=True))
    date_of_birth: str | None = Field(default=None, sa_column=_sealed("patient_contact.date_of_birth"))
    phone: str | None = Field(default=None, sa_column=_sealed("patient_contact.phone"))
    email: str | None = Field(default=None, sa_column=_sealed("patient_contact.email"))
    contact_times: str | None = Field(default=None, sa_column=_sealed("patient_contact.contact_times"))
    emergency_name: str | None = Field(default=None, sa_column=_sealed("patient_contact.emergency_name"))
    emergency_relation: str | None = Field(default=None, sa_column=_sealed("patient_contact.emergency_relation"))
    emergency_phone: str | None = Field(default=None, sa_column=_sealed("patient_contact.emergency_phone"))
    name_dob_index: str | None = Field(default=None, sa_column=Column(String(64), index=True))
    phone_index: str | None = Field(default=None, sa_column=Column(String(64), index=True))
    email_index: str | None = Field(default=None, sa_column=Column(String(64), index=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ErasureStatus(StrEnum):
    PENDING = "pending"
    CARRIED_OUT = "carried_out"
    KEPT = "kept"  # refused under GDPR art. 17(3), with its legal reason


# The reasons art. 17(3) admits for a clinic to keep records after a request, as codes.
KEEP_REASONS = ("legal_obligation", "public_health", "legal_claims")


class ErasureRequest(SQLModel, table=True):
    """A client's request to erase their data (GDPR art. 17), answered within a month."""

    __tablename__ = "erasure_request"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    clinic_id: str = Field(foreign_key="clinic.id", index=True, max_length=36)
    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=36)
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    status: ErasureStatus = Field(default=ErasureStatus.PENDING, sa_type=String(16))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, foreign_key="staff.id", max_length=36)
    keep_reason: str | None = Field(default=None, max_length=32)
    keep_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Invitation(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=36)
    code_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_by: str | None = Field(default=None, foreign_key="staff.id", max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsentRecord(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("patient_id", "version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=36)
    version: str = Field(max_length=32)
    locale: str = Field(max_length=8)
    text_sha256: str = Field(max_length=64)
    accepted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PatientFigures(SQLModel, table=True):
    """The figures the caseload sorts and filters on, one row per patient, kept current by the
    database itself (triggers of migration 0010) whenever a check-in or a PHQ-9 or GAD-7 is written
    or deleted: a caseload of 10,000 reads 10,000 rows, not a year of check-ins each."""

    __tablename__ = "patient_figures"

    patient_id: str = Field(
        sa_column=Column(String(36), ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True)
    )
    last_checkin_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    phq9_latest: int | None = None
    phq9_latest_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    phq9_first: int | None = None
    phq9_first_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    gad7_latest: int | None = None
    gad7_latest_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    gad7_first: int | None = None
    gad7_first_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The mood of the patient's last days (migration 0020): slot k holds the latest day whose number
    # of days since 2000-01-03 is k modulo 7, and the sum and count of that day's moods. The week
    # ending on a given day is the slots whose day falls within it.
    mood_day0: date | None = None
    mood_sum0: int | None = None
    mood_n0: int | None = None
    mood_day1: date | None = None
    mood_sum1: int | None = None
    mood_n1: int | None = None
    mood_day2: date | None = None
    mood_sum2: int | None = None
    mood_n2: int | None = None
    mood_day3: date | None = None
    mood_sum3: int | None = None
    mood_n3: int | None = None
    mood_day4: date | None = None
    mood_sum4: int | None = None
    mood_n4: int | None = None
    mood_day5: date | None = None
    mood_sum5: int | None = None
    mood_n5: int | None = None
    mood_day6: date | None = None
    mood_sum6: int | None = None
    mood_n6: int | None = None
