"""Weekly adherence: sessions completed against the times an exercise was due, per ISO week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from service.exercises import assignments, sessions
from service.models import Assignment
from tests.exercises.conftest import Enrolled, enrol

# A Wednesday at noon in New York (the test clinic's time zone); its ISO week is 2026-W47.
TODAY = datetime(2026, 11, 18, 17, 0, tzinfo=UTC)
BREATHING_ANSWERS = ("3", "done", "done", "done", "7")  # calm, three rounds, calm


def _assign(session: Session, enrolled: Enrolled, code: str, every_days: int, days_ago: int) -> Assignment:
    return assignments.create_assignment(
        session,
        staff=enrolled.setup.clinician,
        patient_id=enrolled.patient.id,
        exercise_code=code,
        every_days=every_days,
        now=TODAY - timedelta(days=days_ago),
    )


def _complete_breathing(session: Session, enrolled: Enrolled, assignment: Assignment, days_ago: int) -> None:
    moment = TODAY - timedelta(days=days_ago)
    opened = sessions.start_session(session, patient=enrolled.patient, assignment_id=assignment.id, now=moment)
    for answer in BREATHING_ANSWERS:
        reply = sessions.send_message(
            session, patient=enrolled.patient, session_id=opened.session_id, text=answer, now=moment
        )
    assert reply.done


@pytest.fixture
def enrolled(session: Session) -> Enrolled:
    return enrol(session)  # America/New_York


def test_adherence_counts_due_and_completed_sessions_per_iso_week(session: Session, enrolled: Enrolled) -> None:
    # Every other day from Monday 2 November (W45): due on the 2nd, 4th, 6th, 8th, 10th... 18th.
    breathing = _assign(session, enrolled, "breathing", every_days=2, days_ago=16)
    for days_ago in (16, 14, 12, 8):  # the 2nd, 4th, 6th (W45) and 10th (W46)
        _complete_breathing(session, enrolled, breathing, days_ago)
    report = assignments.adherence(session, enrolled.patient, weeks=4, now=TODAY)

    assert [w.week for w in report.by_week] == ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    assert [(w.expected, w.completed) for w in report.by_week] == [(0, 0), (4, 3), (3, 1), (2, 0)]
    assert [w.rate for w in report.by_week] == [None, 0.75, 0.3333, 0.0]
    assert (report.expected, report.completed, report.rate) == (9, 4, 0.4444)
    assert report.from_date.isoformat() == "2026-10-26" and report.to_date.isoformat() == "2026-11-18"
    [one] = report.assignments
    assert one.assignment_id == breathing.id and one.title == "Paced breathing" and one.rate == 0.4444


def test_adherence_adds_up_assignments_without_letting_one_make_up_for_another(
    session: Session, enrolled: Enrolled
) -> None:
    breathing = _assign(session, enrolled, "breathing", every_days=7, days_ago=2)  # due Monday the 16th
    _assign(session, enrolled, "grounding", every_days=7, days_ago=2)  # due Monday the 16th, never done
    for days_ago in (2, 1, 0):
        _complete_breathing(session, enrolled, breathing, days_ago)
    report = assignments.adherence(session, enrolled.patient, weeks=1, now=TODAY)
    [week] = report.by_week
    assert (week.expected, week.completed, week.rate) == (2, 3, 0.5)
    assert [(a.exercise_code, a.rate) for a in report.assignments] == [("breathing", 1.0), ("grounding", 0.0)]


def test_sessions_stopped_or_unfinished_do_not_count(session: Session, enrolled: Enrolled) -> None:
    breathing = _assign(session, enrolled, "breathing", every_days=1, days_ago=0)
    opened = sessions.start_session(session, patient=enrolled.patient, assignment_id=breathing.id, now=TODAY)
    sessions.send_message(session, patient=enrolled.patient, session_id=opened.session_id, text="3", now=TODAY)
    report = assignments.adherence(session, enrolled.patient, weeks=1, now=TODAY)
    assert (report.expected, report.completed, report.rate) == (1, 0, 0.0)


def test_adherence_follows_the_patients_calendar(session: Session, enrolled: Enrolled) -> None:
    breathing = _assign(session, enrolled, "breathing", every_days=1, days_ago=1)
    # 02:00 UTC on Wednesday is still Tuesday evening in New York.
    late_tuesday = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
    opened = sessions.start_session(session, patient=enrolled.patient, assignment_id=breathing.id, now=late_tuesday)
    for answer in BREATHING_ANSWERS:
        sessions.send_message(
            session, patient=enrolled.patient, session_id=opened.session_id, text=answer, now=late_tuesday
        )
    report = assignments.adherence(session, enrolled.patient, weeks=1, now=TODAY)
    assert (report.expected, report.completed) == (2, 1)  # Tuesday done, Wednesday still to do
    [row] = assignments.assignments_for_patient(session, enrolled.patient, now=TODAY)
    assert row.next_due_on.isoformat() == "2026-11-18" and row.due_now


def test_a_patient_with_no_assignments_has_nothing_expected(session: Session, enrolled: Enrolled) -> None:
    report = assignments.adherence(session, enrolled.patient, now=TODAY)
    assert (report.expected, report.completed, report.rate, report.assignments) == (0, 0, None, [])
    assert len(report.by_week) == 4
