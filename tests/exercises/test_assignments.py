"""Clinicians assign, pause, resume and end exercises; only for patients they may see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from service.errors import Conflict, Invalid, NotFound
from service.exercises import assignments
from service.models import AuditEvent
from service.models.base import utcnow
from service.onboarding import staff as staff_service
from tests.exercises.conftest import assign, enrol
from tests.factories import SYSTEM, create_clinic


def test_clinician_assigns_an_exercise_with_frequency_and_personal_instructions(session: Session) -> None:
    enrolled = enrol(session)
    assignment = assign(session, enrolled, "breathing", every_days=2, instructions="Try it before bed.")
    assert (assignment.exercise_code, assignment.exercise_version, assignment.every_days) == (
        "breathing",
        2,
        2,
    )  # version 2: three rounds
    assert assignment.assigned_by == enrolled.setup.clinician.id and assignment.status == "active"
    assert assignment.starts_on == assignments.local_today(enrolled.patient)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "assignment.create")).one()
    assert event.patient_id == enrolled.patient.id and event.detail["exercise"] == "breathing"
    assert "bed" not in str(event.detail)


def test_personal_instructions_are_encrypted_at_rest(session: Session) -> None:
    enrolled = enrol(session)
    assignment = assign(session, enrolled, instructions="Focus on the meeting with your sister.")
    stored = session.execute(
        text("SELECT instructions FROM assignment WHERE id = :id"), {"id": assignment.id}
    ).scalar_one()
    assert "sister" not in stored and stored.startswith(f"p1.{enrolled.patient.id}.")


def test_an_administrator_may_assign_but_a_colleague_outside_the_caseload_may_not(session: Session) -> None:
    enrolled = enrol(session)
    clinic = enrolled.setup.clinic
    colleague = staff_service.add_staff(
        session, clinic=clinic, email="other@one.example.org", name="Olive", role="clinician", actor=SYSTEM
    ).staff
    with pytest.raises(NotFound):
        assignments.create_assignment(
            session, staff=colleague, patient_id=enrolled.patient.id, exercise_code="grounding"
        )
    made = assignments.create_assignment(
        session, staff=enrolled.setup.admin, patient_id=enrolled.patient.id, exercise_code="grounding"
    )
    assert made.assigned_by == enrolled.setup.admin.id


def test_staff_of_another_clinic_cannot_see_or_change_an_assignment(session: Session) -> None:
    enrolled = enrol(session)
    assignment = assign(session, enrolled)
    elsewhere = create_clinic(session, name="Elsewhere", slug="elsewhere")
    with pytest.raises(NotFound):
        assignments.pause_assignment(session, staff=elsewhere.admin, assignment_id=assignment.id)
    with pytest.raises(NotFound):
        assignments.assignments_for_staff(session, elsewhere.admin, enrolled.patient.id)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"exercise_code": "astrology"}, NotFound),
        ({"every_days": 0}, Invalid),
        ({"every_days": 91}, Invalid),
        ({"instructions": "x" * 2001}, Invalid),
        ({"starts_on_days": -2}, Invalid),
        ({"ends_on_days": -1}, Invalid),
    ],
)
def test_bad_assignments_are_refused_with_a_reason(session: Session, options: dict, error: type[Exception]) -> None:
    enrolled = enrol(session)
    today = assignments.local_today(enrolled.patient)
    kwargs: dict = {"exercise_code": "thought_record"}
    for key, value in options.items():
        if key == "starts_on_days":
            kwargs["starts_on"] = today + timedelta(days=value)
        elif key == "ends_on_days":
            kwargs["ends_on"] = today + timedelta(days=value)
        else:
            kwargs[key] = value
    with pytest.raises(error) as caught:
        assignments.create_assignment(session, staff=enrolled.setup.clinician, patient_id=enrolled.patient.id, **kwargs)
    assert caught.value.detail  # type: ignore[attr-defined]


def test_the_same_exercise_is_not_assigned_twice_until_the_first_has_ended(session: Session) -> None:
    enrolled = enrol(session)
    first = assign(session, enrolled)
    with pytest.raises(Conflict):
        assign(session, enrolled)
    assignments.end_assignment(session, staff=enrolled.setup.clinician, assignment_id=first.id)
    assert assign(session, enrolled).id != first.id


def test_pause_resume_and_end_follow_each_other_and_are_audited(session: Session) -> None:
    enrolled = enrol(session)
    staff = enrolled.setup.clinician
    assignment = assign(session, enrolled)
    paused = assignments.pause_assignment(session, staff=staff, assignment_id=assignment.id)
    assert paused.status == "paused" and paused.pauses[-1]["to"] is None
    with pytest.raises(Conflict):
        assignments.pause_assignment(session, staff=staff, assignment_id=assignment.id)
    resumed = assignments.resume_assignment(session, staff=staff, assignment_id=assignment.id)
    assert resumed.status == "active" and resumed.pauses[-1]["to"] is not None
    with pytest.raises(Conflict):
        assignments.resume_assignment(session, staff=staff, assignment_id=assignment.id)
    ended = assignments.end_assignment(session, staff=staff, assignment_id=assignment.id)
    assert ended.status == "ended" and ended.ended_at is not None
    with pytest.raises(Conflict):
        assignments.end_assignment(session, staff=staff, assignment_id=assignment.id)
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity_id == assignment.id)).all()
    assert actions == ["assignment.create", "assignment.pause", "assignment.resume", "assignment.end"]


def test_the_client_list_shows_due_dates_and_hides_ended_assignments(session: Session) -> None:
    enrolled = enrol(session)
    today = assignments.local_today(enrolled.patient)
    daily = assign(session, enrolled, "breathing", instructions="Before bed.")
    later = assign(session, enrolled, "grounding", every_days=7, starts_on=today + timedelta(days=3))
    ended = assign(session, enrolled, "thought_record")
    assignments.end_assignment(session, staff=enrolled.setup.clinician, assignment_id=ended.id)
    rows = assignments.assignments_for_patient(session, enrolled.patient)
    assert [r.id for r in rows] == [daily.id, later.id]  # due first
    first, second = rows
    assert (first.next_due_on, first.due_now, first.instructions) == (today, True, "Before bed.")
    assert (second.next_due_on, second.due_now) == (today + timedelta(days=3), False)
    assert first.adherence.expected == 1 and first.adherence.completed == 0 and first.adherence.rate == 0.0


def test_a_paused_assignment_has_no_due_date_and_its_days_are_not_expected(session: Session) -> None:
    enrolled = enrol(session)
    staff = enrolled.setup.clinician
    week_ago = utcnow() - timedelta(days=7)
    assignment = assignments.create_assignment(
        session, staff=staff, patient_id=enrolled.patient.id, exercise_code="breathing", now=week_ago
    )
    assignments.pause_assignment(session, staff=staff, assignment_id=assignment.id, now=week_ago + timedelta(days=2))
    [row] = assignments.assignments_for_patient(session, enrolled.patient)
    assert row.status == "paused" and row.next_due_on is None and not row.due_now
    report = assignments.adherence(session, enrolled.patient)
    assert report.expected == 2  # the two days before the pause


def test_staff_list_includes_ended_assignments_and_is_audited(session: Session) -> None:
    enrolled = enrol(session)
    first = assign(session, enrolled)
    assignments.end_assignment(session, staff=enrolled.setup.clinician, assignment_id=first.id)
    rows = assignments.assignments_for_staff(session, enrolled.setup.clinician, enrolled.patient.id)
    assert [(r.id, r.status) for r in rows] == [(first.id, "ended")]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "assignment.list")).one()
