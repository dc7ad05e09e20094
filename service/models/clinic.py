from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, new_id, utcnow


class Clinic(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    locale: str = Field(default="en", max_length=8)
    country: str = Field(default="US", max_length=2)
    timezone: str = Field(default="UTC", max_length=64)
    # The clinic's own instructions shown with crisis resources, per locale: {"en": "...", "fr": "..."}.
    crisis_instructions: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    mfa_required: bool = True
    # Minutes before an unacknowledged alert escalates, per severity; empty means the defaults.
    escalation_minutes: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    # Years the clinic keeps clinical records after care ends (a legal obligation that can outweigh
    # an erasure request, GDPR art. 17(3)). 20 years is the French rule for medical records.
    record_retention_years: int = 20
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
