"""Request and response bodies of check-ins."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.kit.hygiene import Moment
from service.kit.schemas import CrisisBlock, ScreenedOut, SupportBlock

NOTE_MAX_CHARS = 2000


class Scale(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckinIn(Scale):
    # strict: "7" or true is a client bug, not a mood of 7 or 1.
    mood: int = Field(ge=0, le=10, strict=True, description="How the client feels overall, 0 (worst) to 10 (best).")
    anxiety: int | None = Field(default=None, ge=0, le=10, strict=True, description="0 (calm) to 10 (most anxious).")
    sleep_hours: float | None = Field(default=None, ge=0, le=24, description="Hours slept last night.")
    energy: int | None = Field(default=None, ge=0, le=10, strict=True, description="0 (exhausted) to 10.")
    note: str | None = Field(default=None, max_length=NOTE_MAX_CHARS, description="Free text, up to 2,000 characters.")
    tags: list[str] = Field(default_factory=list, max_length=32, description="Codes from GET /api/v1/checkins/tags.")
    recorded_at: Moment | None = Field(
        default=None, description="When the check-in was made, with a UTC offset; defaults to now."
    )

    @field_validator("sleep_hours", mode="before")
    @classmethod
    def _sleep_is_a_number(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError("sleep_hours must be a number of hours from 0 to 24")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags_are_codes(cls, value: Any) -> Any:
        if isinstance(value, list) and any(not isinstance(tag, str) for tag in value):
            raise ValueError("tags must be a list of tag codes (strings)")
        return value


class CheckinOut(ScreenedOut):
    id: str
    recorded_at: datetime
    local_date: date
    mood: int
    anxiety: int | None
    sleep_hours: float | None
    energy: int | None
    note: str | None
    tags: list[str]


class CheckinCreated(CheckinOut):
    crisis: CrisisBlock | None = Field(description="Crisis lines and what happens next, when risk is moderate or high.")
    support: SupportBlock | None = Field(description="A gentle support message, when risk is low.")
    follow_up: list[str] = Field(
        description="Questionnaires the note makes due now (the C-SSRS after thoughts of suicide)."
    )


class TagOut(BaseModel):
    code: str
    label: str


class TrendPoint(BaseModel):
    day: date
    value: float | None
    mean_7: float | None
    mean_28: float | None


class TrendsOut(BaseModel):
    start: date
    end: date
    timezone: str
    metrics: dict[str, list[TrendPoint]]
