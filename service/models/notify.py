from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String
from sqlmodel import Field, SQLModel

from service.models.base import EncryptedText, UTCDateTime, new_id, utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up after the last retry; visible to operators


class OutboxMessage(SQLModel, table=True):
    """A notification written in the same transaction as its cause, delivered after commit.

    ``dedup_key`` is unique: the same notification is never queued twice, and receivers get it as
    a stable id (email Message-ID, webhook event id) to drop a repeated delivery. It names its
    recipient by the blind index, never by the address or number.

    ``recipient`` (an email address, a phone number, a webhook URL, a push subscription) is stored
    sealed by the key ring in ``recipient_sealed``; ``recipient_index`` is its keyed blind index
    (HMAC-SHA-256), so erasure and the alert delivery reports find a person's rows without the
    database holding the address. Both are empty only on rows that forgot their recipient.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    kind: str = Field(max_length=16)  # email, webhook
    dedup_key: str = Field(sa_column=Column(String(200), unique=True, nullable=False))
    clinic_id: str | None = Field(default=None, max_length=36, index=True)
    recipient: str = Field(sa_column=Column("recipient_sealed", EncryptedText("outbox_message.recipient")))
    recipient_index: str | None = Field(default=None, sa_column=Column(String(64), index=True))
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookEndpoint(SQLModel, table=True):
    """Where a clinic wants signed event notifications (its EHR, its on-call pager...)."""

    __tablename__ = "webhook_endpoint"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    clinic_id: str = Field(foreign_key="clinic.id", index=True, max_length=36)
    url: str = Field(max_length=500)
    secret: str = Field(sa_column=Column(EncryptedText("webhook_endpoint.secret"), nullable=False))
    events: list[str] = Field(default_factory=list, sa_type=JSON)  # empty = every event
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
