"""The exercise part of a summary: adherence to what the clinician assigned, and what the client wrote.

Adherence comes from `exercises.assignments.adherence`. Notable entries are read from the completed
guided sessions of the period, keeping only the answers `exercise_highlights.toml` names (a balanced
thought, an activity done...), formatted by the catalog the way the client's coach words them.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from service.errors import NotFound
from service.exercises import catalog
from service.exercises.answers import format_answer
from service.exercises.assignments import adherence
from service.exercises.review import coach_notes_of
from service.exercises.schemas import Adherence
from service.kit.i18n import pick_locale
from service.models import Assignment, ExerciseSession, ExerciseSessionStatus, Patient

HIGHLIGHTS_FILE = Path(__file__).with_name("exercise_highlights.toml")
MAX_ENTRIES = 12  # the most recent ones; the portal holds every session
MAX_WEEKS = 104  # what adherence() accepts


@dataclass(frozen=True)
class Highlight:
    label: str
    value: str


@dataclass(frozen=True)
class ExerciseEntry:
    at: datetime
    title: str
    highlights: list[Highlight]


@dataclass(frozen=True)
class ExerciseSummary:
    adherence: Adherence | None
    """None when nothing was ever assigned."""
    entries: list[ExerciseEntry]
    """Completed in the period, newest first, at most MAX_ENTRIES."""
    more: int
    """Completed in the period but not listed."""
    stopped_for_safety: list[tuple[datetime, str]]
    """Sessions stopped because screening found risk in the period: when, and which exercise."""
    coach_notes: list[tuple[datetime, str, str]] = field(default_factory=list)
    """Questions the coach noted for the clinician in the period (medication questions), newest
    first: when, which exercise, and the client's words."""


@cache
def highlights() -> dict[str, Any]:
    return tomllib.loads(HIGHLIGHTS_FILE.read_text(encoding="utf-8"))


def exercise_summary(
    session: Session, patient: Patient, *, start: datetime, end: datetime, days: int, lang: str, now: datetime
) -> ExerciseSummary:
    """Adherence over the weeks covering the period, and the sessions of [start, end)."""
    assigned = session.exec(select(Assignment.id).where(Assignment.patient_id == patient.id).limit(1)).first()
    if assigned is None:
        return ExerciseSummary(None, [], 0, [])
    weeks = min(MAX_WEEKS, max(1, math.ceil(days / 7)))
    done, stopped_status = ExerciseSessionStatus.COMPLETED, ExerciseSessionStatus.STOPPED_FOR_SAFETY
    rows = session.exec(
        select(ExerciseSession)
        .where(ExerciseSession.patient_id == patient.id)
        .where(
            or_(
                (col(ExerciseSession.status) == done)
                & (col(ExerciseSession.completed_at) >= start)
                & (col(ExerciseSession.completed_at) < end),
                (col(ExerciseSession.status) == stopped_status)
                & (col(ExerciseSession.stopped_at) >= start)
                & (col(ExerciseSession.stopped_at) < end),
            )
        )
    ).all()
    completed = sorted(
        (r for r in rows if r.status == done and r.completed_at is not None),
        key=lambda r: r.completed_at or r.updated_at,
        reverse=True,
    )
    stopped = sorted(
        (r.stopped_at or r.updated_at, _title(r.exercise_code, lang)) for r in rows if r.status == stopped_status
    )
    return ExerciseSummary(
        adherence=adherence(session, patient, weeks=weeks, now=now),
        entries=[_entry(row, lang) for row in completed[:MAX_ENTRIES]],
        more=max(0, len(completed) - MAX_ENTRIES),
        stopped_for_safety=stopped,
        coach_notes=[
            (note.asked_at, _title(note.exercise_code, lang), note.text)
            for note in coach_notes_of(session, patient=patient, since=start, until=end, limit=MAX_ENTRIES)
        ],
    )


def _title(code: str, lang: str) -> str:
    try:
        return catalog.get_exercise(code).title.text(lang)
    except NotFound:  # an exercise retired from the catalog keeps its code
        return code


def _entry(row: ExerciseSession, lang: str) -> ExerciseEntry:
    assert row.completed_at is not None
    locale = pick_locale(lang)
    spec = highlights()["exercise"].get(row.exercise_code, {"fields": [], "comparisons": []})
    try:
        exercise = catalog.get_exercise(row.exercise_code)
    except NotFound:
        return ExerciseEntry(row.completed_at, row.exercise_code, [])
    answers = _answers(row)
    shown = []
    for wanted in spec["fields"]:
        step = exercise.step_for_field(wanted["field"])
        if step is not None and wanted["field"] in answers:
            shown.append(Highlight(wanted[locale], format_answer(step, answers[wanted["field"]], lang)))
    for name in spec["comparisons"]:
        comparison = next((c for c in exercise.comparisons if c.name == name), None)
        if comparison is None:
            continue
        before, after = exercise.step_for_field(comparison.before), exercise.step_for_field(comparison.after)
        if before and after and comparison.before in answers and comparison.after in answers:
            value = (
                f"{format_answer(before, answers[comparison.before], lang)} → "
                f"{format_answer(after, answers[comparison.after], lang)}"
            )
            shown.append(Highlight(highlights()["comparison_labels"][name][locale], value))
    return ExerciseEntry(row.completed_at, exercise.title.text(lang), shown)


def _answers(row: ExerciseSession) -> dict[str, Any]:
    value = json.loads(row.answers_json or "{}")
    return value if isinstance(value, dict) else {}
