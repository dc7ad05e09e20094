from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, String, UniqueConstraint
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
