"""Request and response bodies of standard questionnaires."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.kit.hygiene import Moment
from service.kit.schemas import CrisisBlock, ScreenedOut, SupportBlock


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


class ResponseOut(ScreenedOut):
    """A response as its client sees it; ``severity_label`` (in the client's language) comes in the
    validation context: ``ResponseOut.model_validate(row, from_attributes=True, context={...})``."""

    id: str
    instrument: str
    completed_at: datetime
    local_date: date
    answers: list[int]
    total: int | None
    severity: str
    severity_label: str


class ResponseCreated(ResponseOut):
    crisis: CrisisBlock | None = Field(
        description="Crisis lines and what happens next, when the answers carry a moderate or high risk."
    )
    support: SupportBlock | None = Field(
        description="A gentle support message with the lines, when the answers carry a low risk."
    )
    follow_up: list[str] = Field(description="Questionnaires that these answers make due now.")


class _Exact(BaseModel):
    """A response body whose builder and schema must agree field for field: an unknown key fails."""

    model_config = ConfigDict(extra="forbid")


class ObservationOut(_Exact):
    at: datetime
    score: int


class ChangeOut(_Exact):
    instrument: str
    status: str = Field(
        description="insufficient_data, reliable_improvement, reliable_deterioration or no_reliable_change"
    )
    count: int
    baseline: ObservationOut | None
    latest: ObservationOut | None
    change: int | None = Field(description="latest - baseline: negative is better")
    reliable_improvement: bool
    reliable_deterioration: bool
    caseness_baseline: bool | None
    caseness_latest: bool | None
    reliable_change_threshold: int
    caseness_threshold: int
    latest_severity: str | None
    latest_severity_label: str | None


class RecoveryOut(_Exact):
    status: str = Field(description="insufficient_data, not_a_case_at_baseline or assessed")
    caseness_baseline: bool | None
    caseness_latest: bool | None
    recovery: bool
    reliable_improvement: bool
    reliable_recovery: bool
    reliable_deterioration: bool


class ProgressOut(_Exact):
    """Change over the episode on the PHQ-9 and GAD-7, and recovery across both."""

    phq9: ChangeOut
    gad7: ChangeOut
    recovery: RecoveryOut


class OptionOut(_Exact):
    value: int
    label: str


class AskIfOut(_Exact):
    item: str
    answer: int


class ItemOut(_Exact):
    id: str
    loinc: str | None
    text: str
    options: list[OptionOut]
    ask_if: AskIfOut | None = Field(default=None, description="Asked only when an earlier item got this answer.")


class MeasureDefinition(_Exact):
    """One questionnaire as a client app renders it, in the client's language."""

    code: str
    name: str
    locale: str
    title: str
    stem: str | None
    instructions: str | None
    recall_period: str
    source: str
    items: list[ItemOut]
    difficulty_item: ItemOut | None = None
