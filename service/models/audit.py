from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    """Append-only; each row carries the hash of the previous one, so edits break the chain."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_type: str = Field(max_length=16)  # client, staff, system
    actor_id: str | None = Field(default=None, max_length=36, index=True)
    clinic_id: str | None = Field(default=None, max_length=36, index=True)
    action: str = Field(max_length=64, index=True)
    entity_type: str | None = Field(default=None, max_length=64)
    entity_id: str | None = Field(default=None, max_length=64)
    patient_id: str | None = Field(default=None, max_length=36, index=True)
    request_id: str | None = Field(default=None, max_length=64)
    # Ids and facts only, never client text.
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
