from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, text
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    """Append-only. Writers insert rows unsealed; the sealer later gives each row its place in the
    chain (``seq``) and an HMAC over its content and the previous row's hash, so edits, deletions
    and insertions break the chain. Database triggers refuse UPDATE (except that one sealing) and DELETE.
    """

    __tablename__ = "audit_event"
    # The sealer's work list: only the rows not sealed yet, in id order, however long the log grows.
    __table_args__ = (
        Index("ix_audit_event_unsealed", "id", postgresql_where=text("seq IS NULL"), sqlite_where=text("seq IS NULL")),
    )

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
    # Set once by the sealer: the row's position in the chain (1, 2, ...), the previous row's hash
    # and HMAC-SHA-256(key, prev_hash + content). NULL while the row is not sealed yet.
    seq: int | None = Field(default=None, unique=True, index=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)
    # Which audit key sealed the row (service.audit.keys: an id, never the key); NULL for rows sealed
    # before keys had ids, which were all sealed with the first key.
    key_id: str | None = Field(default=None, max_length=16)
