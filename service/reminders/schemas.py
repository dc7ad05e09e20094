"""Request and response bodies of reminder settings and Web Push subscriptions."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
Clock = Annotated[str, Field(pattern=_CLOCK.pattern, examples=["08:30"], description="Local time, 24-hour HH:MM.")]


_SETTINGS_EXAMPLE: dict[str, Any] = {
    "enabled": True,
    "times": ["08:30", "20:00"],
    "days": [1, 2, 3, 4, 5],
    "measures": True,
    "exercises": True,
    "quiet_start": "22:00",
    "quiet_end": "07:00",
    "email_fallback": True,
}


class ReminderSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _SETTINGS_EXAMPLE})

    enabled: bool = Field(description="Whether to send check-in reminders at all.")
    times: list[Clock] = Field(default_factory=list, max_length=6, description="Local times of day to remind.")
    days: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5, 6, 7], max_length=7, description="ISO weekdays, 1 = Monday."
    )
    measures: bool = Field(default=True, description="Also say when a questionnaire is waiting.")
    exercises: bool = Field(default=True, description="Also say when an exercise is due.")
    quiet_start: Clock | None = Field(default=None, description="Start of quiet hours: no reminder from then.")
    quiet_end: Clock | None = Field(default=None, description="End of quiet hours.")
    email_fallback: bool = Field(default=True, description="Email the reminder when no device can receive a push.")

    @field_validator("times", "days")
    @classmethod
    def _unique_sorted(cls, values: list) -> list:  # type: ignore[type-arg]
        return sorted(set(values))


class ReminderSettingsOut(ReminderSettingsIn):
    model_config = ConfigDict(
        json_schema_extra={"example": {**_SETTINGS_EXAMPLE, "timezone": "America/Chicago", "push_devices": 1}}
    )

    timezone: str = Field(description="The client's time zone, in which the times are read.")
    push_devices: int = Field(description="How many installed apps of this client can receive a push.")


class PushKeys(BaseModel):
    model_config = ConfigDict(extra="forbid")

    p256dh: str = Field(min_length=80, max_length=120, description="The browser's P-256 public key, base64url.")
    auth: str = Field(min_length=16, max_length=40, description="The browser's 16-byte auth secret, base64url.")

    @field_validator("p256dh", "auth")
    @classmethod
    def _base64url(cls, value: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ValueError("must be base64url") from exc
        if len(raw) not in (16, 65):
            raise ValueError("has the wrong length for a Web Push key")
        return value


class PushSubscriptionIn(BaseModel):
    """What the browser's PushManager.subscribe() returns (PushSubscription.toJSON())."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "example": {
                "endpoint": "https://push.example.net/wpush/v2/gAAAAABk",
                "keys": {
                    "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
                    "auth": "tBHItJI5svbpez7KI4CCXg",
                },
            }
        },
    )

    endpoint: str = Field(min_length=10, max_length=2000, description="The push service URL of this browser.")
    keys: PushKeys


class PushSubscriptionOut(BaseModel):
    id: str
    application_server_key: str = Field(description="The VAPID public key the subscription must use.")


class VapidKeyOut(BaseModel):
    application_server_key: str = Field(description="Pass to PushManager.subscribe() as applicationServerKey.")
