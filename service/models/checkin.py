from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Float, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.base import EncryptedText, UTCDateTime, new_id, utcnow


class CheckIn(SQLModel, table=True):
    """One mood check-in. A client may check in several times a day; charts average them per day."""

    __tablename__ = "checkin"
    __table_args__ = (
        Index("ix_checkin_patient_recorded", "patient_id", "recorded_at"),
        Index("ix_checkin_patient_local_date", "patient_id", "local_date"),
        # The caseload's week of mood for every patient at once (its "mood" order): a date range read
        # from the index alone on PostgreSQL (mood included), not a subquery per patient.
        Index("ix_checkin_local_date", "local_date", "patient_id", postgresql_include=["mood"]),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    patient_id: str = Field(foreign_key="patient.id", max_length=36)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    # The patient's calendar date where they were when they checked in (their time zone then).
    local_date: date
    mood: int
    anxiety: int | None = None
    sleep_hours: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    energy: int | None = None
    note: str | None = Field(
        default=None, sa_column=Column(EncryptedText("checkin.note", per_patient=True), nullable=True)
    )
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    # What the risk engine said about the note, and which version of it said so.
    risk_level: str = Field(default="none", sa_type=String(16))
    risk_categories: list[str] = Field(default_factory=list, sa_type=JSON)
    risk_engine_version: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IdempotencyKey(SQLModel, table=True):
    """A client's retry protection for a POST: the same key replays the first answer, never writes twice.

    Only a keyed hash of the request body is kept, so a note is never stored twice in the clear.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("patient_id", "key", name="uq_idempotency_key_patient_key"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    patient_id: str = Field(foreign_key="patient.id", max_length=36)
    key: str = Field(max_length=200)
    # What the key was used for ("checkin", "measure_response"): a key is never shared across them.
    scope: str = Field(max_length=32)
    request_hash: str = Field(max_length=64)
    resource_id: str = Field(max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
