from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel

from service.models.base import EncryptedText, UTCDateTime, new_id, utcnow


class OnCallShift(SQLModel, table=True):
    """Who is on call from when to when (stored in UTC, entered in the clinic's time zone).

    Shifts may overlap (everyone on shift is told) or leave gaps (admins are paged)."""

    __tablename__ = "on_call_shift"
    __table_args__ = (Index("ix_on_call_shift_clinic_time", "clinic_id", "starts_at", "ends_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    clinic_id: str = Field(foreign_key="clinic.id", max_length=36)
    staff_id: str = Field(foreign_key="staff.id", index=True, max_length=36)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(foreign_key="staff.id", max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffChannels(SQLModel, table=True):
    """How a staff member wants to hear about alerts. No row means email only."""

    __tablename__ = "staff_channels"

    staff_id: str = Field(foreign_key="staff.id", primary_key=True, max_length=36)
    email: bool = True
    push: bool = True  # to every portal browser the person subscribed
    sms: bool = False
    # E.164 phone number: personal data, encrypted.
    sms_number: str | None = Field(default=None, sa_column=Column(EncryptedText("staff_channels.sms_number")))
    # Routine alerts in one email a day instead of one email each (urgent and priority never wait).
    routine_digest: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffPushSubscription(SQLModel, table=True):
    """A portal browser's Web Push subscription (RFC 8030 endpoint, RFC 8291 keys) for one staff member."""

    __tablename__ = "staff_push_subscription"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    staff_id: str = Field(foreign_key="staff.id", index=True, max_length=36)
    endpoint: str = Field(sa_column=Column(Text, nullable=False))
    endpoint_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertFeedback(SQLModel, table=True):
    """The clinician's verdict on an alert when resolving it: was the risk real? Labels for PPV per
    rule and for the next training round of the screener."""

    __tablename__ = "alert_feedback"

    alert_id: str = Field(foreign_key="alert.id", primary_key=True, max_length=36)
    clinic_id: str = Field(foreign_key="clinic.id", index=True, max_length=36)
    verdict: str = Field(sa_type=String(16))  # "confirmed" or "not_a_concern"
    reason: str | None = Field(default=None, max_length=32)
    staff_id: str = Field(foreign_key="staff.id", max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
