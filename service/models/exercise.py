"""Exercises a clinician assigns, the guided sessions a client works through, and their transcripts."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from service.models.base import EncryptedText, UTCDateTime, new_id, utcnow


class AssignmentStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class Assignment(SQLModel, table=True):
    """One exercise from the catalog, assigned to a patient to do every ``every_days`` days.

    Due dates are ``starts_on``, ``starts_on + every_days``, ... in the patient's own calendar,
    up to ``ends_on`` (inclusive) and never inside a pause.
    """

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    clinic_id: str = Field(foreign_key="clinic.id", max_length=36)
    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=36)
    assigned_by: str = Field(foreign_key="staff.id", max_length=36)
    exercise_code: str = Field(max_length=64)
    exercise_version: int
    every_days: int = 1
    starts_on: date
    ends_on: date | None = None
    # Written by the clinician for this patient: health data, so encrypted like client text.
    instructions: str | None = Field(
        default=None, sa_column=Column(EncryptedText("assignment.instructions", per_patient=True))
    )
    status: AssignmentStatus = Field(default=AssignmentStatus.ACTIVE, sa_type=String(16))
    # Local dates of each pause: [{"from": "2026-11-02", "to": "2026-11-09" or null while paused}].
    pauses: list[dict[str, str | None]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The coach is paused for this assignment (Grow's model): by the clinician, with a reason the
    # client reads, or by a moderate or higher risk signal in a session, until a clinician resumes it.
    coach_paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    coach_pause_kind: str | None = Field(default=None, max_length=16)  # "clinician" or "safety"
    coach_pause_reason: str | None = Field(
        default=None, sa_column=Column(EncryptedText("assignment.coach_pause_reason", per_patient=True))
    )


class ExerciseSessionStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    STOPPED_FOR_SAFETY = "stopped_for_safety"
    # Left unfinished and replaced: the exercise's steps changed since it was started.
    ABANDONED = "abandoned"


class ExerciseSession(SQLModel, table=True):
    """One guided run through an assigned exercise: where the client is and what they answered."""

    __tablename__ = "exercise_session"
    __table_args__ = (
        # At most one session in progress per assignment, even when two starts race.
        Index(
            "uq_exercise_session_in_progress",
            "assignment_id",
            unique=True,
            sqlite_where=text("status = 'in_progress'"),
            postgresql_where=text("status = 'in_progress'"),
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    clinic_id: str = Field(foreign_key="clinic.id", max_length=36)
    assignment_id: str = Field(foreign_key="assignment.id", index=True, max_length=36)
    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=36)
    exercise_code: str = Field(max_length=64)
    exercise_version: int
    step_index: int = 0
    # The structured answers so far, as JSON: the client's own words, so encrypted.
    answers_json: str = Field(
        sa_column=Column(EncryptedText("exercise_session.answers", per_patient=True, erased="{}"), nullable=False)
    )
    status: ExerciseSessionStatus = Field(default=ExerciseSessionStatus.IN_PROGRESS, sa_type=String(24))
    engine: str = Field(default="scripted", max_length=16)  # the engine of the deployment that ran it
    # Bumped by every change; a write that finds another number lost a race and starts over.
    revision: int = 0
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MessageRole(StrEnum):
    CLIENT = "client"
    COACH = "coach"


class ExerciseMessage(SQLModel, table=True):
    """One line of a session's transcript, with how it was produced and what screening found."""

    __tablename__ = "exercise_message"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    session_id: str = Field(foreign_key="exercise_session.id", index=True, max_length=36)
    seq: int  # position in the transcript; unique, so two writers can never interleave
    role: MessageRole = Field(sa_type=String(16))
    text: str = Field(sa_column=Column(EncryptedText("exercise_message.text", per_patient=True), nullable=False))
    step_index: int  # the step awaited when the message was written
    # Coach lines: who wrote the text ("scripted" or "llm"), and why an LLM reply was not used.
    engine: str | None = Field(default=None, max_length=16)
    fallback_reason: str | None = Field(default=None, max_length=200)
    guardrail_reasons: list[str] = Field(default_factory=list, sa_type=JSON)
    traps: list[str] = Field(default_factory=list, sa_type=JSON)
    # Client lines: the risk screen of the text, done before any engine saw it.
    risk_level: str | None = Field(default=None, max_length=16)
    risk_categories: list[str] = Field(default_factory=list, sa_type=JSON)
    risk_engine_version: str | None = Field(default=None, max_length=100)
    # Client lines: a non-risk note the coach made of the message for the clinician, as a code
    # ("medication_question": the coach did not answer it and said who can).
    clinician_note: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
