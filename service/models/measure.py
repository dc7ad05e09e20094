from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, new_id, utcnow


class MeasureResponse(SQLModel, table=True):
    """A completed standard questionnaire (PHQ-9, GAD-7, C-SSRS) with its score as given at the time."""

    __tablename__ = "measure_response"
    __table_args__ = (Index("ix_measure_response_patient_instrument", "patient_id", "instrument", "completed_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    patient_id: str = Field(foreign_key="patient.id", max_length=36)
    instrument: str = Field(max_length=16)
    # Option values in item order (then the PHQ-9 difficulty answer, when given); skipped items are 0.
    answers: list[int] = Field(default_factory=list, sa_type=JSON)
    total: int | None = None
    # Severity band key (PHQ-9, GAD-7) or C-SSRS triage level.
    severity: str = Field(max_length=32)
    completed_at: datetime = Field(sa_type=UTCDateTime)
    local_date: date
    risk_level: str = Field(default="none", sa_type=String(16))
    risk_categories: list[str] = Field(default_factory=list, sa_type=JSON)
    risk_engine_version: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MeasureSchedule(SQLModel, table=True):
    """How often one patient is asked one questionnaire; without a row the defaults apply."""

    __tablename__ = "measure_schedule"
    __table_args__ = (UniqueConstraint("patient_id", "instrument", name="uq_measure_schedule_patient_instrument"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    patient_id: str = Field(foreign_key="patient.id", max_length=36)
    instrument: str = Field(max_length=16)
    # Days between two completions; None means "only when asked" (the C-SSRS).
    interval_days: int | None = None
    active: bool = True
    # Set when a clinician or a rule asks for it now; satisfied by the next completion after it.
    requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why it was last requested: "clinician", or the rule that asked ("phq9_item9").
    requested_reason: str | None = Field(default=None, max_length=32)
    updated_by: str | None = Field(default=None, foreign_key="staff.id", max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
