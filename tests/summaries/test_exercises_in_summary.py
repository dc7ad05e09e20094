"""The exercise part of the summary: adherence as the exercises service counts it, and what the
client wrote in the sessions they completed, through the real guided-session service."""

from __future__ import annotations

import json
import re

from sqlmodel import Session, select

from service.demo.seed import seed_exercises
from service.exercises import catalog, sessions
from service.exercises.assignments import adherence, create_assignment
from service.models import ExerciseSession, ExerciseSessionStatus
from service.summaries.content import build_summary
from service.summaries.exercises import MAX_WEEKS, highlights
from service.summaries.pdf import render_pdf
from tests.summaries.conftest import Seeded
from tests.summaries.reading import pdf_text


def flat(text: str) -> str:
    return " ".join(text.split()).replace("’", "'")


def test_the_summary_shows_adherence_and_the_balanced_thoughts_of_the_period(session: Session, history: Seeded) -> None:
    patient = history.story.patient
    seed_exercises(session, [patient])  # thought records every 4 days, breathing every 3, over 3 weeks
    lang = history.setup.clinic.locale
    view = build_summary(session, patient, days=28)
    text = flat(pdf_text(render_pdf(view)))

    expected = adherence(session, patient, weeks=4)
    words = {"en": "of", "fr": "sur"}[lang]
    assert f"{expected.completed} {words} {expected.expected}" in text  # the glance tile
    for assignment in expected.assignments:
        row = re.search(rf"{re.escape(assignment.title)} .*? (\d+) (\d+) (\d+) ?%", text)
        assert row and row.groups()[:2] == (str(assignment.expected), str(assignment.completed)), assignment.title
    records = session.exec(
        select(ExerciseSession).where(
            ExerciseSession.patient_id == patient.id,
            ExerciseSession.exercise_code == "thought_record",
            ExerciseSession.status == ExerciseSessionStatus.COMPLETED,
        )
    ).all()
    assert records
    for record in records:
        balanced = json.loads(record.answers_json)["balanced_thought"]
        assert flat(balanced) in text
    label = {"en": "BALANCED THOUGHT", "fr": "PENSÉE ÉQUILIBRÉE"}[lang]  # set in small capitals
    assert text.count(label) == len(records)


def test_a_patient_without_assignments_is_said_to_have_none(session: Session, english: Seeded) -> None:
    text = flat(pdf_text(render_pdf(build_summary(session, english.story.patient, days=28))))
    assert "No exercise assigned." in text and "none assigned" in text


def test_completed_sessions_outside_the_period_are_not_listed(session: Session, english: Seeded) -> None:
    patient = english.story.patient
    seed_exercises(session, [patient])
    view = build_summary(session, patient, days=2)
    completed_recently = [
        row
        for row in session.exec(select(ExerciseSession).where(ExerciseSession.patient_id == patient.id)).all()
        if row.completed_at is not None and (english.story.today - row.completed_at.date()).days <= 1
    ]
    assert len(view.exercises.entries) <= len(completed_recently) + 1  # a day boundary in UTC vs local time
    assert len(view.exercises.entries) < len(
        session.exec(select(ExerciseSession).where(ExerciseSession.status == ExerciseSessionStatus.COMPLETED)).all()
    )


def test_the_highlights_file_names_real_exercises_fields_and_comparisons() -> None:
    data = highlights()
    for code, spec in data["exercise"].items():
        exercise = catalog.get_exercise(code)
        for wanted in spec["fields"]:
            assert exercise.step_for_field(wanted["field"]) is not None, (code, wanted["field"])
            assert wanted["en"] and wanted["fr"] and wanted["en"] != wanted["fr"]
        names = {c.name for c in exercise.comparisons}
        for name in spec["comparisons"]:
            assert name in names and name in data["comparison_labels"], (code, name)
    assert MAX_WEEKS == 104


QUESTIONS = {
    "en": ("Should I double my sertraline dose? The doctor is away.", "Medication questions the coach did not answer"),
    "fr": (
        "Est-ce que je peux doubler ma dose de sertraline ? Le médecin est absent.",
        "Questions sur les médicaments auxquelles le coach n'a pas répondu",
    ),
}


def test_the_summary_lists_the_medication_questions_the_coach_noted_for_the_clinician(
    session: Session, history: Seeded
) -> None:
    patient, lang = history.story.patient, history.setup.clinic.locale
    question, heading = QUESTIONS[lang]
    row = create_assignment(
        session, staff=history.setup.clinician, patient_id=patient.id, exercise_code="thought_record"
    )
    opened = sessions.start_session(session, patient=patient, assignment_id=row.id)
    reply = sessions.send_message(session, patient=patient, session_id=opened.session_id, text=question)
    assert reply.crisis is None and not reply.done  # not a risk, and the coach did not answer it
    sessions.send_message(session, patient=patient, session_id=opened.session_id, text="At work, my boss ignored me.")
    text = flat(pdf_text(render_pdf(build_summary(session, patient, days=28))))
    assert heading in text and flat(question) in text
    assert "my boss ignored me" not in text  # only the questions noted for the clinician, not every message
