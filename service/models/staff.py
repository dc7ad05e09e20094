from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from service.models.base import EncryptedText, UTCDateTime, new_id, utcnow


class Role(StrEnum):
    CLINICIAN = "clinician"
    ADMIN = "admin"


class Staff(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    clinic_id: str = Field(foreign_key="clinic.id", index=True, max_length=36)
    email: str = Field(sa_column=Column(String(320), unique=True, nullable=False))
    name: str = Field(max_length=200)
    role: Role = Field(sa_type=String(16))
    active: bool = True
    on_call: bool = False
    password_hash: str | None = Field(default=None, max_length=200)
    password_must_change: bool = False
    totp_secret: str | None = Field(default=None, sa_column=Column(EncryptedText("staff.totp_secret")))
    totp_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A new authenticator being set up from the account page; the confirmed one keeps working until then.
    totp_pending_secret: str | None = Field(default=None, sa_column=Column(EncryptedText("staff.totp_pending_secret")))
    # Digests of the unused recovery codes (each works once, in place of an authenticator code).
    recovery_codes: list[str] = Field(default_factory=list, sa_type=JSON)
    # The language the person chose on their account page; None means the clinic's.
    locale: str | None = Field(default=None, max_length=8)
    oidc_issuer: str | None = Field(default=None, max_length=300)
    oidc_subject: str | None = Field(default=None, max_length=300, index=True)
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffPasswordReset(SQLModel, table=True):
    """A single-use emailed link for a staff member to choose a new password; only its hash is kept."""

    __tablename__ = "staff_password_reset"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    staff_id: str = Field(foreign_key="staff.id", index=True, max_length=36)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    # Who asked: the staff member (None) or the admin who sent it.
    requested_by: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
