from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String
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
    oidc_issuer: str | None = Field(default=None, max_length=300)
    oidc_subject: str | None = Field(default=None, max_length=300, index=True)
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
