"""Request and response bodies of assignments and guided sessions, for clients and for staff."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.kit.schemas import CrisisBlock, RowOut, SupportBlock

# A client message may be at most this long: plenty for any answer, and it bounds the work per message.
MAX_MESSAGE_CHARS = 2000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- adherence


class WeekAdherence(BaseModel):
    week: str = Field(description="ISO week, e.g. 2026-W47")
    starts_on: date = Field(description="Monday of the week")
    expected: int = Field(description="times the exercise was due that week, up to today")
    completed: int = Field(description="sessions completed that week")
    rate: float | None = Field(description="completed (at most expected) / expected; null when nothing was due")


class AdherenceSummary(BaseModel):
    weeks: int
    expected: int
    completed: int
    rate: float | None


class AssignmentAdherence(AdherenceSummary):
    assignment_id: str
    exercise_code: str
    title: str
    status: str
    every_days: int
    by_week: list[WeekAdherence]


class Adherence(AdherenceSummary):
    """A patient's adherence to every assignment, per ISO week, oldest week first."""

    patient_id: str
    from_date: date
    to_date: date
    by_week: list[WeekAdherence]
    assignments: list[AssignmentAdherence]


# ---------------------------------------------------------------- assignments


class AssignmentOut(BaseModel):
    """An assigned exercise as the client sees it."""

    id: str
    exercise_code: str
    title: str
    summary: str
    minutes: int
    instructions: str | None = Field(description="the clinician's personal note")
    every_days: int
    starts_on: date
    ends_on: date | None
    status: str = Field(description="active or paused")
    next_due_on: date | None = Field(description="null while paused or once the assignment is over")
    due_now: bool
    last_completed_at: datetime | None
    in_progress_session_id: str | None = Field(description="a session to resume, if one was left unfinished")
    adherence: AdherenceSummary


class StaffAssignmentOut(AssignmentOut):
    """An assignment as the clinician sees it: with who assigned it and its whole history."""

    patient_id: str
    assigned_by: str
    exercise_version: int
    pauses: list[dict[str, str | None]]
    created_at: datetime
    ended_at: datetime | None
    sessions_completed: int
    coach_paused_at: datetime | None = None
    coach_pause_kind: str | None = Field(default=None, description="clinician or safety")
    coach_pause_reason: str | None = None


# ---------------------------------------------------------------- guided sessions


class MessageIn(Strict):
    text: str = Field(description=f"the client's message, 1 to {MAX_MESSAGE_CHARS} characters")


class SessionStartOut(BaseModel):
    session_id: str
    message: str = Field(description="the guide's opening: what it is, how to reach real help, the first step")
    done: bool
    resumed: bool = Field(description="true when an unfinished session was picked up again")


class MessageOut(BaseModel):
    message: str
    done: bool
    crisis: CrisisBlock | None = Field(
        description="at moderate risk or above: the crisis resources, the clinic's instructions and when the "
        "care team will see the message; the exercise has stopped"
    )
    support: SupportBlock | None = Field(
        description="at low risk: a support message with the support lines; the exercise goes on"
    )
    status: str = Field(description="in_progress, completed or stopped_for_safety")


class TranscriptLine(RowOut):
    role: str = Field(description="client or coach")
    text: str
    created_at: datetime


class SessionOut(BaseModel):
    """A session as its client sees it, to pick it up again later."""

    id: str
    assignment_id: str
    exercise_code: str
    title: str
    status: str
    done: bool
    step_index: int
    steps_total: int
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    transcript: list[TranscriptLine]


class StaffTranscriptLine(TranscriptLine):
    step_index: int
    engine: str | None
    fallback_reason: str | None
    guardrail_reasons: list[str]
    traps: list[str]
    risk_level: str | None
    risk_categories: list[str]
    risk_engine_version: str | None


class AnswerField(BaseModel):
    """One structured answer: the balanced thought, the emotions before, the activity planned..."""

    field: str
    step_id: str
    kind: str
    prompt: str
    value: Any
    display: str = Field(description="the value as a short phrase")


class ComparisonOut(BaseModel):
    """A before/after pair (emotions re-rated, distress before and after...)."""

    name: str
    before_field: str
    after_field: str
    before: Any
    after: Any
    before_display: str | None
    after_display: str | None


class CoachNote(BaseModel):
    """A client's message the coach noted for the clinician without answering it (a medication
    question): the client's own words, for the care team to answer."""

    session_id: str
    exercise_code: str
    note: str  # the code, e.g. "medication_question"
    text: str
    asked_at: datetime


class SessionSummary(BaseModel):
    id: str
    assignment_id: str
    exercise_code: str
    title: str
    status: str
    engine: str
    step_index: int
    steps_total: int
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    stopped_at: datetime | None


class SessionDetail(SessionSummary):
    """Everything a clinician reads about one session: the answers, the comparisons, the transcript."""

    patient_id: str
    exercise_version: int
    answers: dict[str, Any]
    fields: list[AnswerField]
    comparisons: list[ComparisonOut]
    transcript: list[StaffTranscriptLine]

    def field(self, name: str) -> AnswerField | None:
        return next((f for f in self.fields if f.field == name), None)
