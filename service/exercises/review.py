"""What clinicians read of guided sessions: a patient's sessions, and one session with its answers,
before/after comparisons and the whole transcript with how each line was made. Reading is audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from service import audit
from service.db import unit_of_work
from service.errors import NotFound
from service.exercises import catalog
from service.exercises.answers import format_answer
from service.exercises.coach.texts import render
from service.exercises.schemas import (
    AnswerField,
    CoachNote,
    ComparisonOut,
    SessionDetail,
    SessionSummary,
    StaffTranscriptLine,
)
from service.exercises.sessions import answers_of, transcript_of
from service.kit.context import Actor
from service.kit.i18n import pick_locale
from service.models import (
    Clinic,
    ExerciseMessage,
    ExerciseSession,
    Patient,
    Staff,
)
from service.onboarding import patients


def sessions_for_staff(session: Session, *, staff: Staff, patient_id: str) -> list[SessionSummary]:
    """A patient's guided sessions, newest first, for a staff member who may see the patient."""
    with unit_of_work(session):
        patient = patients.get_for_staff(session, staff=staff, patient_id=patient_id)
        found = summaries_of(session, patient=patient)
        if found:  # no session, nothing read
            audit.record(session, actor=Actor.staff(staff), action="exercise_session.list", entity=patient)
    return found


def summaries_of(session: Session, *, patient: Patient) -> list[SessionSummary]:
    """``sessions_for_staff`` of a patient the caller has already checked, without its audit row."""
    rows = session.exec(
        select(ExerciseSession)
        .where(ExerciseSession.patient_id == patient.id)
        .order_by(col(ExerciseSession.started_at).desc())
    ).all()
    lang = _staff_locale(session, patient)
    return [SessionSummary(**_summary_fields(row, lang)) for row in rows]


# The patient page lists the latest ones; the session transcript has them all.
COACH_NOTES_SHOWN = 20


def coach_notes_of(
    session: Session,
    *,
    patient: Patient,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = COACH_NOTES_SHOWN,
) -> list[CoachNote]:
    """The client's messages the coach noted for the clinician (medication questions), newest first.
    The caller has already checked who may see the patient, and audits the read."""
    query = (
        select(ExerciseMessage, ExerciseSession.exercise_code)
        .join(ExerciseSession, col(ExerciseSession.id) == col(ExerciseMessage.session_id))
        .where(ExerciseSession.patient_id == patient.id, col(ExerciseMessage.clinician_note).is_not(None))
        .order_by(col(ExerciseMessage.created_at).desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(col(ExerciseMessage.created_at) >= since)
    if until is not None:
        query = query.where(col(ExerciseMessage.created_at) < until)
    return [
        CoachNote(
            session_id=line.session_id,
            exercise_code=code,
            note=str(line.clinician_note),
            text=line.text,
            asked_at=line.created_at,
        )
        for line, code in session.exec(query).all()
    ]


def session_detail(session: Session, *, staff: Staff, session_id: str, locale: str | None = None) -> SessionDetail:
    """One session for a clinician: the structured answers, the before/after comparisons and the
    whole transcript with how each line was made. Reading it is audited."""
    row = session.get(ExerciseSession, session_id)
    if row is None:
        raise NotFound("no such exercise session")
    with unit_of_work(session):
        try:
            patient = patients.get_for_staff(session, staff=staff, patient_id=row.patient_id)
        except NotFound:
            raise NotFound("no such exercise session") from None
        audit.record(session, actor=Actor.staff(staff), action="exercise_session.view", entity=row)
    lang = pick_locale(locale or _staff_locale(session, patient))
    exercise = catalog.get_exercise(row.exercise_code)
    answers = answers_of(row)
    answered = [step for step in exercise.steps if step.field and step.field in answers]
    shown = {step.field: format_answer(step, answers[step.field], lang) for step in answered if step.field}
    fields = [
        AnswerField(
            field=step.field,
            step_id=step.id,
            kind=str(step.kind),
            # The question as the client read it, earlier answers filled in ("Earlier you noted: ...").
            prompt=render(step.prompt.text(lang), shown),
            value=answers[step.field],
            display=shown[step.field],
        )
        for step in answered
        if step.field
    ]
    return SessionDetail(
        **_summary_fields(row, lang),
        patient_id=row.patient_id,
        exercise_version=row.exercise_version,
        answers=answers,
        fields=fields,
        comparisons=[_comparison(exercise, c, answers, lang) for c in exercise.comparisons],
        transcript=[_staff_line(m) for m in transcript_of(session, row)],
    )


def _summary_fields(row: ExerciseSession, lang: str) -> dict[str, Any]:
    exercise = catalog.get_exercise(row.exercise_code)
    return {
        "id": row.id,
        "assignment_id": row.assignment_id,
        "exercise_code": row.exercise_code,
        "title": exercise.title.text(lang),
        "status": str(row.status),
        "engine": row.engine,
        "step_index": row.step_index,
        "steps_total": len(exercise.steps),
        "started_at": row.started_at,
        "updated_at": row.updated_at,
        "completed_at": row.completed_at,
        "stopped_at": row.stopped_at,
    }


def _comparison(
    exercise: catalog.Exercise, comparison: catalog.Comparison, answers: Mapping[str, Any], lang: str
) -> ComparisonOut:
    def shown(field: str) -> str | None:
        step = exercise.step_for_field(field)
        return format_answer(step, answers[field], lang) if step and field in answers else None

    return ComparisonOut(
        name=comparison.name,
        before_field=comparison.before,
        after_field=comparison.after,
        before=answers.get(comparison.before),
        after=answers.get(comparison.after),
        before_display=shown(comparison.before),
        after_display=shown(comparison.after),
    )


def _staff_line(line: ExerciseMessage) -> StaffTranscriptLine:
    return StaffTranscriptLine.model_validate(line, from_attributes=True)


def _staff_locale(session: Session, patient: Patient) -> str:
    clinic = session.get(Clinic, patient.clinic_id)
    return clinic.locale if clinic is not None else "en"
