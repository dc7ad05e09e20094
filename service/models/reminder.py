"""What a client asked to be reminded of, where to push it, and one-time links to reset a password."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, String, Text
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, new_id, utcnow


class ReminderPreference(SQLModel, table=True):
    """A client's check-in reminders: local times on chosen weekdays, outside their quiet hours."""

    __tablename__ = "reminder_preference"

    patient_id: str = Field(foreign_key="patient.id", primary_key=True, max_length=36)
    enabled: bool = False
    times: list[str] = Field(default_factory=list, sa_type=JSON)  # "HH:MM", the client's local time
    days: list[int] = Field(default_factory=list, sa_type=JSON)  # ISO weekdays, 1 = Monday
    measures: bool = True  # also say when a questionnaire is waiting
    exercises: bool = True  # also say when an exercise is due
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    email_fallback: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PushSubscription(SQLModel, table=True):
    """A browser's Web Push subscription (RFC 8030 endpoint, RFC 8291 keys) for one client."""

    __tablename__ = "push_subscription"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=36)
    endpoint: str = Field(sa_column=Column(Text, nullable=False))
    endpoint_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PasswordResetToken(SQLModel, table=True):
    """A single-use link to choose a new password; only the hash of the token is stored."""

    __tablename__ = "password_reset_token"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=36)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
