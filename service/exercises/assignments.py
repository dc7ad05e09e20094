"""Exercises assigned by a clinician: frequency, due dates, personal instructions, and adherence.

Only a staff member who may see the patient (``onboarding.patients.get_for_staff``) assigns, pauses,
resumes or ends an assignment. Dates are the patient's own calendar dates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from service import audit
from service.db import unit_of_work
from service.errors import Conflict, Invalid, NotFound
from service.exercises import catalog
from service.exercises.schedule import Pause, Schedule, WeekCount, sum_weeks, week_counts
from service.exercises.schemas import (
    Adherence,
    AdherenceSummary,
    AssignmentAdherence,
    AssignmentOut,
    StaffAssignmentOut,
    WeekAdherence,
)
from service.kit.context import Actor
from service.kit.i18n import pick_locale
from service.models import (
    Assignment,
    AssignmentStatus,
    ExerciseSession,
    ExerciseSessionStatus,
    Patient,
    PatientStatus,
    Staff,
)
from service.models.base import utcnow
from service.onboarding import patients

MAX_EVERY_DAYS = 90
MAX_INSTRUCTIONS = 2000
ADHERENCE_WEEKS = 4
OPEN_STATUSES = (AssignmentStatus.ACTIVE, AssignmentStatus.PAUSED)
ViewT = TypeVar("ViewT", bound=AssignmentOut)


def local_today(patient: Patient, now: datetime | None = None) -> date:
    """Today in the patient's time zone: due dates and adherence follow the patient's calendar."""
    return (now or utcnow()).astimezone(ZoneInfo(patient.timezone)).date()


def local_date(patient: Patient, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(patient.timezone)).date()


# ---------------------------------------------------------------- what clinicians do


def create_assignment(
    session: Session,
    *,
    staff: Staff,
    patient_id: str,
    exercise_code: str,
    every_days: int = 1,
    instructions: str | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Assignment:
    """Assign an exercise of the catalog to a patient this staff member may see."""
    now = now or utcnow()
    if not exercise_code:
        raise Invalid("choose an exercise")
    exercise = catalog.get_exercise(exercise_code)
    instructions = _clean_instructions(instructions)
    if not 1 <= every_days <= MAX_EVERY_DAYS:
        raise Invalid("choose how often: every 1 to 90 days")
    with unit_of_work(session):
        patient = patients.get_for_staff(session, staff=staff, patient_id=patient_id)
        if patient.status == PatientStatus.DISCHARGED:
            raise Invalid("this patient is discharged; exercises can no longer be assigned")
        today = local_today(patient, now)
        starts_on = starts_on or today
        if starts_on < today:
            raise Invalid("the start date cannot be in the past")
        if ends_on is not None and ends_on < starts_on:
            raise Invalid("the end date cannot be before the start date")
        if _open_assignment_of(session, patient.id, exercise.code) is not None:
            raise Conflict("this exercise is already assigned to this patient; pause or end that assignment first")
        assignment = Assignment(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            assigned_by=staff.id,
            exercise_code=exercise.code,
            exercise_version=exercise.version,
            every_days=every_days,
            starts_on=starts_on,
            ends_on=ends_on,
            instructions=instructions,
            created_at=now,
            updated_at=now,
        )
        session.add(assignment)
        session.flush()
        audit.record(
            session,
            actor=actor or Actor.staff(staff),
            action="assignment.create",
            entity=assignment,
            detail={"exercise": exercise.code, "version": exercise.version, "every_days": every_days},
        )
    return assignment


def pause_assignment(
    session: Session, *, staff: Staff, assignment_id: str, actor: Actor | None = None, now: datetime | None = None
) -> Assignment:
    """Stop asking for the exercise until it is resumed; the paused days count as not due."""
    now = now or utcnow()
    with unit_of_work(session):
        assignment, patient = _get_for_staff(session, staff, assignment_id)
        if assignment.status != AssignmentStatus.ACTIVE:
            raise Conflict(f"only an active assignment can be paused; this one is {assignment.status}")
        assignment.status = AssignmentStatus.PAUSED
        assignment.pauses = [*assignment.pauses, {"from": local_today(patient, now).isoformat(), "to": None}]
        _touch(session, assignment, staff, "assignment.pause", actor, now)
    return assignment


def resume_assignment(
    session: Session, *, staff: Staff, assignment_id: str, actor: Actor | None = None, now: datetime | None = None
) -> Assignment:
    now = now or utcnow()
    with unit_of_work(session):
        assignment, patient = _get_for_staff(session, staff, assignment_id)
        if assignment.status != AssignmentStatus.PAUSED:
            raise Conflict(f"only a paused assignment can be resumed; this one is {assignment.status}")
        assignment.status = AssignmentStatus.ACTIVE
        assignment.pauses = _close_pause(assignment.pauses, local_today(patient, now))
        _touch(session, assignment, staff, "assignment.resume", actor, now)
    return assignment


def pause_coach(
    session: Session,
    *,
    staff: Staff,
    assignment_id: str,
    reason: str,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Assignment:
    """Pause the coach for this assignment; the client reads ``reason`` when they try to start it."""
    now = now or utcnow()
    text = _clean_instructions(reason)
    if not text:
        raise Invalid("give the client a reason for the pause")
    with unit_of_work(session):
        assignment, _ = _get_for_staff(session, staff, assignment_id)
        if assignment.status == AssignmentStatus.ENDED:
            raise Conflict("this assignment has ended")
        assignment.coach_paused_at = now
        assignment.coach_pause_kind = "clinician"
        assignment.coach_pause_reason = text
        _close_sessions(session, assignment, now)
        _touch(session, assignment, staff, "assignment.coach_pause", actor, now)
    return assignment


def resume_coach(
    session: Session, *, staff: Staff, assignment_id: str, actor: Actor | None = None, now: datetime | None = None
) -> Assignment:
    """Let the coach guide this assignment again, after a clinician's pause or a safety stop."""
    now = now or utcnow()
    with unit_of_work(session):
        assignment, _ = _get_for_staff(session, staff, assignment_id)
        if assignment.coach_paused_at is None:
            raise Conflict("the coach is not paused for this exercise")
        assignment.coach_paused_at = None
        assignment.coach_pause_kind = None
        assignment.coach_pause_reason = None
        _touch(session, assignment, staff, "assignment.coach_resume", actor, now)
    return assignment


def _close_sessions(session: Session, assignment: Assignment, now: datetime) -> None:
    """A session left unfinished is closed, revision included, so that a message being handled notices."""
    session.execute(
        update(ExerciseSession)
        .where(
            col(ExerciseSession.assignment_id) == assignment.id,
            col(ExerciseSession.status) == ExerciseSessionStatus.IN_PROGRESS,
        )
        .values(status=ExerciseSessionStatus.ABANDONED, updated_at=now, revision=ExerciseSession.revision + 1)
        .execution_options(synchronize_session=False)
    )


def end_assignment(
    session: Session, *, staff: Staff, assignment_id: str, actor: Actor | None = None, now: datetime | None = None
) -> Assignment:
    """No more due dates from today; a session left unfinished is closed as abandoned."""
    now = now or utcnow()
    with unit_of_work(session):
        assignment, patient = _get_for_staff(session, staff, assignment_id)
        if assignment.status == AssignmentStatus.ENDED:
            raise Conflict("this assignment has already ended")
        today = local_today(patient, now)
        assignment.status = AssignmentStatus.ENDED
        assignment.pauses = _close_pause(assignment.pauses, today)
        assignment.ended_at = now
        last_day = today - timedelta(days=1)
        assignment.ends_on = min(assignment.ends_on, last_day) if assignment.ends_on else last_day
        # In one statement, revision included, so that a message being handled at this moment notices.
        session.execute(
            update(ExerciseSession)
            .where(
                col(ExerciseSession.assignment_id) == assignment.id,
                col(ExerciseSession.status) == ExerciseSessionStatus.IN_PROGRESS,
            )
            .values(status=ExerciseSessionStatus.ABANDONED, updated_at=now, revision=ExerciseSession.revision + 1)
            .execution_options(synchronize_session=False)
        )
        _touch(session, assignment, staff, "assignment.end", actor, now)
    return assignment


def paused_for_safety(session: Session, staff: Staff, patient_id: str) -> list[Assignment]:
    """The patient's exercises whose coach a moderate or higher signal paused, for the alert page's
    "resume the coach" buttons; empty when this staff member may not see the patient."""
    try:
        patient = patients.get_for_staff(session, staff=staff, patient_id=patient_id)
    except NotFound:
        return []
    return list(
        session.exec(
            select(Assignment)
            .where(Assignment.patient_id == patient.id, Assignment.coach_pause_kind == "safety")
            .where(col(Assignment.coach_paused_at).is_not(None))
            .order_by(col(Assignment.created_at))
        ).all()
    )


def get_for_staff(session: Session, staff: Staff, assignment_id: str) -> Assignment:
    """One assignment, if this staff member may see its patient; otherwise NotFound."""
    return _get_for_staff(session, staff, assignment_id)[0]


def _get_for_staff(session: Session, staff: Staff, assignment_id: str) -> tuple[Assignment, Patient]:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("no such assignment")
    try:
        patient = patients.get_for_staff(session, staff=staff, patient_id=assignment.patient_id)
    except NotFound:
        raise NotFound("no such assignment") from None
    return assignment, patient


def _touch(
    session: Session, assignment: Assignment, staff: Staff, action: str, actor: Actor | None, now: datetime
) -> None:
    assignment.updated_at = now
    audit.record(session, actor=actor or Actor.staff(staff), action=action, entity=assignment)


def _close_pause(pauses: list[dict[str, str | None]], today: date) -> list[dict[str, str | None]]:
    return [{**p, "to": today.isoformat()} if p.get("to") is None else p for p in pauses]


def _clean_instructions(text: str | None) -> str | None:
    text = (text or "").strip()
    if len(text) > MAX_INSTRUCTIONS:
        raise Invalid(f"instructions must be at most {MAX_INSTRUCTIONS} characters")
    return text or None


def _open_assignment_of(session: Session, patient_id: str, exercise_code: str) -> Assignment | None:
    return session.exec(
        select(Assignment).where(
            Assignment.patient_id == patient_id,
            Assignment.exercise_code == exercise_code,
            col(Assignment.status).in_(OPEN_STATUSES),
        )
    ).first()


# ---------------------------------------------------------------- what clients and clinicians read


def assignments_for_patient(session: Session, patient: Patient, *, now: datetime | None = None) -> list[AssignmentOut]:
    """The client's current assignments (active and paused), due first."""
    rows = _assignments(session, patient.id, OPEN_STATUSES)
    views = [_view(session, patient, a, now, AssignmentOut) for a in rows]
    return sorted(views, key=lambda v: (v.status != AssignmentStatus.ACTIVE, v.next_due_on or date.max, v.title))


def assignments_for_staff(
    session: Session, staff: Staff, patient_id: str, *, now: datetime | None = None
) -> list[StaffAssignmentOut]:
    """Every assignment of a patient this staff member may see, ended ones included, newest first."""
    with unit_of_work(session):
        patient = patients.get_for_staff(session, staff=staff, patient_id=patient_id)
        views = staff_views(session, patient=patient, now=now)
        if views:  # nothing assigned, nothing read
            audit.record(session, actor=Actor.staff(staff), action="assignment.list", entity=patient)
    return views


def staff_views(session: Session, *, patient: Patient, now: datetime | None = None) -> list[StaffAssignmentOut]:
    """``assignments_for_staff`` of a patient the caller has already checked, without its audit row."""
    rows = _assignments(session, patient.id, tuple(AssignmentStatus))
    views = [_view(session, patient, a, now, StaffAssignmentOut) for a in rows]
    return sorted(views, key=lambda v: v.created_at, reverse=True)


def _assignments(session: Session, patient_id: str, statuses: tuple[AssignmentStatus, ...]) -> list[Assignment]:
    return list(
        session.exec(
            select(Assignment).where(Assignment.patient_id == patient_id, col(Assignment.status).in_(statuses))
        )
    )


def _view(session: Session, patient: Patient, assignment: Assignment, now: datetime | None, kind: type[ViewT]) -> ViewT:
    exercise = catalog.get_exercise(assignment.exercise_code)
    lang = pick_locale(patient.locale)
    today = local_today(patient, now)
    completed = _completed_sessions(session, [assignment.id])[assignment.id]
    completed_on = [local_date(patient, at) for at in completed]
    schedule = schedule_of(assignment)
    due = None if assignment.status != AssignmentStatus.ACTIVE else schedule.next_due(today, completed_on)
    in_progress = session.exec(
        select(ExerciseSession.id).where(
            ExerciseSession.assignment_id == assignment.id,
            ExerciseSession.status == ExerciseSessionStatus.IN_PROGRESS,
        )
    ).first()
    weeks = week_counts(schedule, completed_on, today=today, weeks=ADHERENCE_WEEKS)
    fields = {
        "id": assignment.id,
        "exercise_code": assignment.exercise_code,
        "title": exercise.title.text(lang),
        "summary": exercise.summary.text(lang),
        "minutes": exercise.minutes,
        "instructions": assignment.instructions,
        "every_days": assignment.every_days,
        "starts_on": assignment.starts_on,
        "ends_on": assignment.ends_on,
        "status": str(assignment.status),
        "next_due_on": due,
        "due_now": due is not None and due <= today,
        "last_completed_at": max(completed, default=None),
        "in_progress_session_id": in_progress,
        "adherence": _summary(weeks),
    }
    if kind is StaffAssignmentOut:
        fields.update(
            patient_id=assignment.patient_id,
            assigned_by=assignment.assigned_by,
            exercise_version=assignment.exercise_version,
            pauses=assignment.pauses,
            created_at=assignment.created_at,
            ended_at=assignment.ended_at,
            sessions_completed=len(completed),
            coach_paused_at=assignment.coach_paused_at,
            coach_pause_kind=assignment.coach_pause_kind,
            coach_pause_reason=assignment.coach_pause_reason,
        )
    return kind.model_validate(fields)


def schedule_of(assignment: Assignment) -> Schedule:
    pauses = tuple(
        Pause(date.fromisoformat(str(p["from"])), date.fromisoformat(str(p["to"])) if p.get("to") else None)
        for p in assignment.pauses
    )
    return Schedule(assignment.starts_on, assignment.every_days, assignment.ends_on, pauses)


def _completed_sessions(session: Session, assignment_ids: list[str]) -> dict[str, list[datetime]]:
    found: dict[str, list[datetime]] = defaultdict(list)
    if not assignment_ids:
        return found
    rows = session.exec(
        select(ExerciseSession.assignment_id, ExerciseSession.completed_at).where(
            col(ExerciseSession.assignment_id).in_(assignment_ids),
            ExerciseSession.status == ExerciseSessionStatus.COMPLETED,
        )
    ).all()
    for assignment_id, completed_at in rows:
        if completed_at is not None:
            found[assignment_id].append(completed_at)
    return found


# ---------------------------------------------------------------- adherence


def adherence(
    session: Session, patient: Patient, *, weeks: int = ADHERENCE_WEEKS, now: datetime | None = None
) -> Adherence:
    """Completed sessions against due dates, per ISO week over the last ``weeks`` weeks (the current,
    partial week last), for each assignment and for all of them together. Used by the client list,
    the portal and the PDF summary."""
    if not 1 <= weeks <= 104:
        raise Invalid("weeks must be between 1 and 104")
    today = local_today(patient, now)
    lang = pick_locale(patient.locale)
    rows = _assignments(session, patient.id, tuple(AssignmentStatus))
    completed = _completed_sessions(session, [a.id for a in rows])
    per_assignment: list[AssignmentAdherence] = []
    totals: list[list[WeekCount]] = []
    for assignment in sorted(rows, key=lambda a: a.created_at):
        completed_on = [local_date(patient, at) for at in completed[assignment.id]]
        counts = week_counts(schedule_of(assignment), completed_on, today=today, weeks=weeks)
        totals.append(counts)
        per_assignment.append(
            AssignmentAdherence(
                assignment_id=assignment.id,
                exercise_code=assignment.exercise_code,
                title=catalog.get_exercise(assignment.exercise_code).title.text(lang),
                status=str(assignment.status),
                every_days=assignment.every_days,
                by_week=[_week(c) for c in counts],
                **_summary(counts).model_dump(),
            )
        )
    by_week = sum_weeks(totals, today=today, weeks=weeks)
    return Adherence(
        patient_id=patient.id,
        from_date=by_week[0].starts_on,
        to_date=today,
        by_week=[_week(c) for c in by_week],
        assignments=per_assignment,
        **_summary(by_week).model_dump(),
    )


def _week(count: WeekCount) -> WeekAdherence:
    return WeekAdherence(
        week=count.week,
        starts_on=count.starts_on,
        expected=count.expected,
        completed=count.completed,
        rate=count.rate,
    )


def _summary(counts: list[WeekCount]) -> AdherenceSummary:
    expected = sum(c.expected for c in counts)
    met = sum(c.met for c in counts)
    return AdherenceSummary(
        weeks=len(counts),
        expected=expected,
        completed=sum(c.completed for c in counts),
        rate=None if expected == 0 else round(met / expected, 4),
    )


@dataclass(frozen=True)
class CaseloadAdherence:
    """One patient's adherence over the last weeks, all assignments together, for the caseload."""

    summary: AdherenceSummary
    open_assignments: int
    """Active or paused assignments."""


def adherence_by_patient(
    session: Session, patients_shown: Sequence[Patient], *, weeks: int = ADHERENCE_WEEKS, now: datetime | None = None
) -> dict[str, CaseloadAdherence]:
    """``adherence`` summed over each patient's assignments, for many patients in two queries (the
    caseload must not pay a query per patient). The caller decides who may see these patients."""
    ids = [p.id for p in patients_shown]
    if not ids:
        return {}
    rows = session.exec(select(Assignment).where(col(Assignment.patient_id).in_(ids))).all()
    completed = _completed_sessions(session, [a.id for a in rows])
    own: dict[str, list[Assignment]] = defaultdict(list)
    for assignment in rows:
        own[assignment.patient_id].append(assignment)
    found = {}
    for patient in patients_shown:
        today = local_today(patient, now)
        counts = [
            week_counts(schedule_of(a), [local_date(patient, at) for at in completed[a.id]], today=today, weeks=weeks)
            for a in own[patient.id]
        ]
        found[patient.id] = CaseloadAdherence(
            summary=_summary(sum_weeks(counts, today=today, weeks=weeks)),
            open_assignments=sum(a.status in OPEN_STATUSES for a in own[patient.id]),
        )
    return found
