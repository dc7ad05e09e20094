"""When each questionnaire is due for a patient.

PHQ-9 and GAD-7 are asked on a fixed interval (schedules.toml) unless the clinician changes it;
other questionnaires (the C-SSRS) only when a clinician or a follow-up rule asks for them, and
then they are due at once. A schedule row exists only where a patient departs from the defaults.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from service import audit
from service.db import unit_of_work
from service.errors import Invalid
from service.kit import timing
from service.kit.context import Actor
from service.measures.instruments import all_instruments, get_instrument
from service.models import MeasureResponse, MeasureSchedule, Patient
from service.models.base import new_id

SCHEDULES_FILE = Path(__file__).with_name("schedules.toml")
MAX_INTERVAL_DAYS = 365


@dataclass(frozen=True)
class FollowUp:
    """Ask `ask` now when item `item` of `after` is scored `at_least` or more."""

    name: str
    after: str
    item: str
    at_least: int
    ask: str


@dataclass(frozen=True)
class NoteFollowUp:
    """Ask `ask` now when the risk screen of a check-in note found any of `categories`."""

    name: str
    categories: tuple[str, ...]
    ask: str


@dataclass(frozen=True)
class Due:
    instrument: str
    interval_days: int | None
    active: bool
    due: bool
    next_due_on: date | None
    last_completed_at: datetime | None
    requested_reason: str | None
    """Why it is asked now outside its interval ("clinician", "phq9_item9"), while the request is open."""


@cache
def default_intervals() -> dict[str, int]:
    raw = tomllib.loads(SCHEDULES_FILE.read_text(encoding="utf-8"))
    intervals = {entry["instrument"]: int(entry["interval_days"]) for entry in raw.get("default", [])}
    for code, days in intervals.items():
        get_instrument(code)
        if not 1 <= days <= MAX_INTERVAL_DAYS:
            raise RuntimeError(f"{SCHEDULES_FILE.name}: {code} interval must be 1 to {MAX_INTERVAL_DAYS} days")
    return intervals


@cache
def follow_ups() -> tuple[FollowUp, ...]:
    raw = tomllib.loads(SCHEDULES_FILE.read_text(encoding="utf-8"))
    rules = tuple(FollowUp(**entry) for entry in raw.get("follow_up", []))
    for rule in rules:
        get_instrument(rule.ask)
        get_instrument(rule.after).position(rule.item)  # a typo in the file fails at start-up
    return rules


@cache
def note_follow_ups() -> tuple[NoteFollowUp, ...]:
    raw = tomllib.loads(SCHEDULES_FILE.read_text(encoding="utf-8"))
    rules = tuple(
        NoteFollowUp(name=entry["name"], categories=tuple(entry["categories"]), ask=entry["ask"])
        for entry in raw.get("note_follow_up", [])
    )
    for rule in rules:
        get_instrument(rule.ask)
    return rules


def note_follow_ups_for(categories: Sequence[str]) -> list[NoteFollowUp]:
    """The follow-up rules that a note's risk categories meet."""
    return [rule for rule in note_follow_ups() if set(rule.categories) & set(categories)]


def follow_ups_for(instrument: str, item_scores: Sequence[int]) -> list[FollowUp]:
    """The follow-up rules that these answers to `instrument` meet."""
    definition = get_instrument(instrument)
    return [
        rule
        for rule in follow_ups()
        if rule.after == instrument and item_scores[definition.position(rule.item)] >= rule.at_least
    ]


def due_list(session: Session, patient: Patient) -> list[Due]:
    """Every questionnaire the client may fill in now or soon, in display order."""
    rows = {
        row.instrument: row
        for row in session.exec(select(MeasureSchedule).where(MeasureSchedule.patient_id == patient.id)).all()
    }
    last = _last_completions(session, patient)
    today = timing.today_for(patient)
    listing = []
    for instrument in all_instruments():
        due = _due(patient, instrument.code, rows.get(instrument.code), last.get(instrument.code), today)
        if due is not None:
            listing.append(due)
    return listing


def _last_completions(session: Session, patient: Patient) -> dict[str, tuple[datetime, date]]:
    rows = session.exec(
        select(MeasureResponse.instrument, func.max(MeasureResponse.completed_at), func.max(MeasureResponse.local_date))
        .where(MeasureResponse.patient_id == patient.id)
        .group_by(MeasureResponse.instrument)
    ).all()
    return {code: (at, day) for code, at, day in rows}


def _due(
    patient: Patient,
    code: str,
    row: MeasureSchedule | None,
    last: tuple[datetime, date] | None,
    today: date,
) -> Due | None:
    """The instrument's place in the list, or None when the client is not asked it at all."""
    default = default_intervals().get(code)
    interval = row.interval_days if row is not None else default
    active = row.active if row is not None else default is not None
    last_at, last_on = last if last is not None else (None, None)
    pending = row is not None and row.requested_at is not None and (last_at is None or last_at < row.requested_at)
    if default is None and not (active and (interval is not None or pending)):
        return None  # asked only on request, and nobody has asked
    next_on: date | None = None
    if active:
        if interval is not None:
            next_on = last_on + timedelta(days=interval) if last_on is not None else _anchor(patient, row, default)
        if pending and row is not None and row.requested_at is not None:
            requested_on = timing.local_date(row.requested_at, patient)
            next_on = min(next_on, requested_on) if next_on is not None else requested_on
    return Due(
        instrument=code,
        interval_days=interval,
        active=active,
        due=next_on is not None and next_on <= today,
        next_due_on=next_on,
        last_completed_at=last_at,
        requested_reason=row.requested_reason if pending and row is not None else None,
    )


def _anchor(patient: Patient, row: MeasureSchedule | None, default: int | None) -> date:
    """First due date: the day of activation for the defaults, else the day the schedule was set."""
    if default is None and row is not None:
        return timing.local_date(row.created_at, patient)
    return timing.local_date(patient.activated_at or patient.created_at, patient)


def set_schedule(
    session: Session,
    *,
    patient: Patient,
    instrument: str,
    actor: Actor,
    interval_days: int | None,
    active: bool = True,
    due_now: bool = False,
) -> MeasureSchedule:
    """Set how often `patient` is asked `instrument` (None: only when asked); `due_now` asks it today.

    For the clinician portal: `actor` is the staff member deciding, and the change is audited.
    """
    get_instrument(instrument)
    if interval_days is not None and (isinstance(interval_days, bool) or not 1 <= interval_days <= MAX_INTERVAL_DAYS):
        raise Invalid(f"interval_days must be from 1 to {MAX_INTERVAL_DAYS}, or empty for 'only when asked'")
    with unit_of_work(session):
        row = _row(session, patient, instrument)
        row.interval_days = interval_days
        row.active = active
        row.updated_by = actor.id if actor.kind == "staff" else None
        row.updated_at = timing.now()
        if due_now:
            _request(row, reason="clinician" if actor.kind == "staff" else actor.kind)
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="measure.schedule_set",
            entity=row,
            detail={"instrument": instrument, "interval_days": interval_days, "active": active, "due_now": due_now},
        )
    return row


def request_now(session: Session, *, patient: Patient, instrument: str, reason: str, actor: Actor) -> MeasureSchedule:
    """Make `instrument` due today for `patient` (a follow-up rule, or a clinician asking)."""
    get_instrument(instrument)
    with unit_of_work(session):
        row = _row(session, patient, instrument)
        row.active = True
        _request(row, reason=reason)
        row.updated_at = timing.now()
        session.add(row)
        audit.record(
            session,
            actor=actor,
            action="measure.request",
            entity=row,
            detail={"instrument": instrument, "reason": reason},
        )
    return row


def request_follow_ups(
    session: Session, *, patient: Patient, rules: Sequence[FollowUp | NoteFollowUp], actor: Actor
) -> list[str]:
    """Make every questionnaire the rules ask for due now; returns their codes, once each, in order.

    One statement per questionnaire (an upsert that hands back the schedule's id for the audit row):
    follow-ups are on the crisis path, which stays short."""
    for rule in rules:
        _request_upsert(session, patient=patient, instrument=rule.ask, reason=rule.name, actor=actor)
    return list(dict.fromkeys(rule.ask for rule in rules))


def _request_upsert(session: Session, *, patient: Patient, instrument: str, reason: str, actor: Actor) -> None:
    """`request_now` in one statement: the schedule is created, or made active and due now."""
    get_instrument(instrument)
    now = timing.now()
    table = MeasureSchedule.__table__  # type: ignore[attr-defined]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(
        id=new_id(),
        patient_id=patient.id,
        instrument=instrument,
        interval_days=default_intervals().get(instrument),
        active=True,
        requested_at=now,
        requested_reason=reason,
        created_at=now,
        updated_at=now,
    )
    upsert = statement.on_conflict_do_update(
        index_elements=[table.c.patient_id, table.c.instrument],
        set_={"active": True, "requested_at": now, "requested_reason": reason, "updated_at": now},
    ).returning(table.c.id)
    with unit_of_work(session):
        schedule_id = session.execute(upsert).scalar_one()
        for held in list(session.identity_map.values()):
            if isinstance(held, MeasureSchedule) and held.id == schedule_id:
                session.expire(held)  # changed behind the ORM's back: read again when next used
        audit.record(
            session,
            actor=actor,
            action="measure.request",
            entity_type="measure_schedule",
            entity_id=schedule_id,
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            detail={"instrument": instrument, "reason": reason},
        )


def _row(session: Session, patient: Patient, instrument: str) -> MeasureSchedule:
    row = session.exec(
        select(MeasureSchedule).where(
            MeasureSchedule.patient_id == patient.id, MeasureSchedule.instrument == instrument
        )
    ).first()
    if row is not None:
        return row
    return MeasureSchedule(
        patient_id=patient.id,
        instrument=instrument,
        interval_days=default_intervals().get(instrument),
        active=True,
        created_at=timing.now(),
        updated_at=timing.now(),
    )


def _request(row: MeasureSchedule, *, reason: str) -> None:
    row.requested_at = timing.now()
    row.requested_reason = reason
