from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.base import EncryptedText, UTCDateTime, new_id, utcnow


class SafetyPlanVersion(SQLModel, table=True):
    """One saved version of a client's safety plan (Stanley-Brown). Versions are never changed or
    deleted: the latest is the plan, the others say who changed what and when."""

    __tablename__ = "safety_plan_version"
    __table_args__ = (UniqueConstraint("patient_id", "version", name="uq_safety_plan_version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=36)
    version: int
    # {"warning_signs": ["...", ...], ...}: the client's own words, encrypted (JSON inside).
    sections_json: str = Field(
        sa_column=Column(EncryptedText("safety_plan_version.sections", per_patient=True, erased="{}"), nullable=False)
    )
    # Codes of the sections this version changed, compared with the one before.
    changed: list[str] = Field(default_factory=list, sa_type=JSON)
    author_type: str = Field(sa_type=String(16))  # "client" or "staff"
    author_id: str = Field(max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
