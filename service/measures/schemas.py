"""Request and response bodies of standard questionnaires."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.kit.hygiene import Moment


class ResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked item by item by the scoring module, which says which answer is wrong and why.
    answers: list[Any] = Field(max_length=64, description="Option values in item order (skipped items: 0).")
    completed_at: Moment | None = Field(
        default=None, description="When the questionnaire was completed, with a UTC offset; defaults to now."
    )


class MeasureListing(BaseModel):
    code: str
    title: str
    due: bool
    next_due_on: date | None
    last_completed_at: datetime | None
    interval_days: int | None
    reason: str | None = Field(description="Why it is asked now outside its interval, when it is.")


class Risk(BaseModel):
    level: str
    categories: list[str]


class ResponseOut(BaseModel):
    id: str
    instrument: str
    completed_at: datetime
    local_date: date
    answers: list[int]
    total: int | None
    severity: str
    severity_label: str
    risk: Risk


class ResponseCreated(ResponseOut):
    crisis: dict[str, Any] | None
    support: dict[str, Any] | None
    follow_up: list[str] = Field(description="Questionnaires that these answers make due now.")
