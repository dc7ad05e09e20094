"""Request and response bodies of onboarding and client accounts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ActivationIn(Strict):
    invite_code: str = Field(min_length=1, max_length=64)
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=256)
    consent_version: str = Field(min_length=1, max_length=32)


class LoginIn(Strict):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class ConsentOut(BaseModel):
    version: str
    locale: str
    text: str


class ClinicianOut(BaseModel):
    name: str


class ClinicOut(BaseModel):
    name: str
    country: str
    timezone: str


class ProfileOut(BaseModel):
    id: str
    display_name: str
    email: str | None
    locale: str
    timezone: str
    country: str
    status: str
    clinic: ClinicOut
    clinician: ClinicianOut
    consent_version: str | None
    next_appointment_at: datetime | None
    activated_at: datetime | None
    erasure_requested_at: datetime | None


class ErasureOut(BaseModel):
    status: str
    requested_at: datetime
    detail: str


class ProfileUpdateIn(Strict):
    locale: str | None = Field(default=None, min_length=2, max_length=8, description="en or fr.")
    timezone: str | None = Field(default=None, min_length=1, max_length=64, description="IANA time zone.")


class PasswordChangeIn(Strict):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256, description="Same rules as at activation.")
