"""What every coach engine takes and gives back.

Engines are stateless: the caller keeps the state of a guided session (step index and answers),
passes it in a ``CoachContext`` and stores the state a ``CoachReply`` returns. Client messages reach
an engine only after the caller has screened them for risk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Protocol

from service.exercises.catalog import AnswerValue, Exercise, Step
from service.kit.i18n import pick_locale


@dataclasses.dataclass(frozen=True)
class CoachContext:
    exercise: Exercise
    locale: str = "en"
    step_index: int = 0  # the step whose answer is awaited; len(steps) once the exercise is done
    answers: Mapping[str, AnswerValue] = dataclasses.field(default_factory=dict)
    first_name: str | None = None
    instructions: str | None = None  # the clinician's personal note for this assignment
    emergency_number: str | None = None  # e.g. "112"; a generic phrase is used when unknown
    # Phone numbers and links of the crisis resources for the client's country: the only ones an
    # LLM reply may mention besides the crisis lines known to the guardrails.
    allowed_contacts: tuple[str, ...] = ()
    # The risk level (service.risk.RiskLevel) the caller's screen gave the message being answered.
    risk_level: int = 0
    # Client turns already spent on the current step without moving on (0 on the first try): a
    # rating is asked again once, not over and over.
    tries: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.step_index <= len(self.exercise.steps):
            raise ValueError(f"step_index {self.step_index} is outside exercise {self.exercise.code!r}")

    @property
    def lang(self) -> str:
        return pick_locale(self.locale)

    @property
    def done(self) -> bool:
        return self.step_index >= len(self.exercise.steps)

    @property
    def current_step(self) -> Step | None:
        return None if self.done else self.exercise.steps[self.step_index]


@dataclasses.dataclass(frozen=True)
class CoachReply:
    message: str  # what the client reads
    step_index: int  # new state to store
    answers: dict[str, AnswerValue]  # new state to store (all answers so far)
    done: bool
    engine: str  # "scripted" or "llm": who wrote the message
    fallback_reason: str | None = None  # why the LLM reply was not used, for the caller to record
    traps: list[str] = dataclasses.field(default_factory=list)  # thinking traps noticed in this answer
    paused: bool = False  # the client asked to stop: the session waits, resumable
    turn: str = "answer"  # how the client's turn was read (classify.TurnKind)
    # A non-risk note for the clinician, e.g. "medication_question": a code, never the client's words.
    note: str | None = None


class CoachEngine(Protocol):
    name: str

    def opening(self, ctx: CoachContext) -> CoachReply:
        """The first message of a session (or of a resumed one)."""
        ...

    def reply(self, ctx: CoachContext, message: str) -> CoachReply:
        """The answer to one client message, with the new state."""
        ...
