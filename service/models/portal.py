from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, String
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, new_id, utcnow


class SessionStage(StrEnum):
    # Password accepted, but the clinic's MFA enrolment (and first password change) is not done yet.
    ENROLMENT = "enrolment"
    ACTIVE = "active"


class PortalSession(SQLModel, table=True):
    """A signed-in staff member's browser. The cookie holds a random token; only its hash is kept."""

    __tablename__ = "portal_session"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    staff_id: str = Field(foreign_key="staff.id", index=True, max_length=36)
    stage: SessionStage = Field(default=SessionStage.ACTIVE, sa_type=String(16))
    auth_method: str = Field(max_length=16)  # password, oidc
    # The language the staff member picked with the switch; None means the clinic's language.
    locale: str | None = Field(default=None, max_length=8)
    # TOTP time step used to open this session, so the same code cannot open a second one.
    totp_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)  # the absolute limit
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
