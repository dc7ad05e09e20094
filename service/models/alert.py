from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, text
from sqlmodel import Field, SQLModel

from service.models.base import EncryptedText, UTCDateTime, new_id, utcnow


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Severity(StrEnum):
    ROUTINE = "routine"
    PRIORITY = "priority"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Alert(SQLModel, table=True):
    """A risk signal that a person must look at. One open alert per patient and reason."""

    __table_args__ = (
        # At most one unresolved alert per patient and reason, even when two requests race.
        Index(
            "uq_alert_open_reason",
            "patient_id",
            "reason",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index("ix_alert_queue", "clinic_id", "status", "severity"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    clinic_id: str = Field(foreign_key="clinic.id", max_length=36)
    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=36)
    assigned_to: str = Field(foreign_key="staff.id", index=True, max_length=36)
    reason: str = Field(max_length=32)
    severity: Severity = Field(sa_type=String(16))
    status: AlertStatus = Field(default=AlertStatus.OPEN, sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When the alert escalates if nobody has acknowledged it.
    ack_deadline_at: datetime = Field(sa_type=UTCDateTime, index=True)
    escalation_level: int = 0
    last_escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, foreign_key="staff.id", max_length=36)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, foreign_key="staff.id", max_length=36)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution: str | None = Field(default=None, max_length=32)
    # Written by staff about a patient: health data, so encrypted like client text.
    resolution_note: str | None = Field(
        default=None, sa_column=Column(EncryptedText("alert.resolution_note", per_patient=True))
    )


class AlertSignal(SQLModel, table=True):
    """One screening result attached to an alert: where it came from and the evidence."""

    __tablename__ = "alert_signal"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    alert_id: str = Field(foreign_key="alert.id", index=True, max_length=36)
    source_type: str = Field(max_length=32)  # checkin, measure_response, coach_message, trend
    source_id: str | None = Field(default=None, max_length=64)
    level: str = Field(max_length=16)
    categories: list[str] = Field(default_factory=list, sa_type=JSON)
    # Rule ids with the client's matched words: encrypted (JSON inside).
    evidence_json: str = Field(
        sa_column=Column(EncryptedText("alert_signal.evidence", per_patient=True, erased="[]"), nullable=False)
    )
    engine_version: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertEvent(SQLModel, table=True):
    """The alert's history: created, signal added, severity raised, escalated, acknowledged, resolved."""

    __tablename__ = "alert_event"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: str = Field(foreign_key="alert.id", index=True, max_length=36)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    kind: str = Field(max_length=32)
    actor_type: str = Field(max_length=16)
    actor_id: str | None = Field(default=None, max_length=36)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
