"""Check-ins: a client writes one, reads them back page by page, and sees their trends.

Every note is screened for risk before the check-in commits; the check-in, its risk result, any
alert and the audit row commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service import alerts, audit
from service.alerts import exchange as exchange_risk
from service.alerts.exchange import Said
from service.checkins import trends
from service.checkins.schemas import NOTE_MAX_CHARS, CheckinCreated, CheckinIn, CheckinOut, TrendPoint, TrendsOut
from service.checkins.tags import check_tags
from service.db import UNAVAILABLE_ERRORS, unit_of_work
from service.errors import Invalid, NotFound
from service.kit import idempotency, pagination, timing
from service.kit.context import Actor
from service.measures import schedules
from service.models import CheckIn, Patient
from service.models.base import new_id
from service.risk import RiskResult, screen_text

SCOPE = "checkin"
DEFAULT_PAGE = 30
MAX_PAGE = 100
DEFAULT_TREND_DAYS = 28
MAX_TREND_DAYS = 366
METRICS = ("mood", "anxiety", "sleep_hours", "energy")


@dataclass(frozen=True)
class CheckinPage:
    items: list[CheckinOut]
    next_cursor: str | None


def submit(
    session: Session, *, patient: Patient, data: CheckinIn, idempotency_key: str | None = None
) -> CheckinCreated:
    """Record a check-in, screen its note, and answer with the risk and any crisis or support block.

    With an Idempotency-Key, a retry of the same request returns the first answer and writes nothing.
    The note is screened before anything waits on the database: should the database fail or be
    saturated, the answer is a 503 that still carries the crisis (or support) lines.
    """
    result = screen_text(clean_note(data.note) or "", patient.locale)
    try:
        return _submit(session, patient, data, result, idempotency_key)
    except UNAVAILABLE_ERRORS as exc:
        raise alerts.unavailable_with_lines(patient, result.level) from exc


def _submit(
    session: Session, patient: Patient, data: CheckinIn, result: RiskResult, idempotency_key: str | None
) -> CheckinCreated:
    if idempotency_key is None:
        return _create(session, patient, data, result, key=None, request_hash=None)
    key = idempotency.check_key(idempotency_key)
    request_hash = idempotency.fingerprint(data.model_dump(mode="json"))
    first = idempotency.lookup(session, patient=patient, key=key, scope=SCOPE, request_hash=request_hash)
    if first is not None:
        return _replay(session, patient, first)
    try:
        return _create(session, patient, data, result, key=key, request_hash=request_hash)
    except IntegrityError:
        # A twin request with the same key committed first: answer as it did.
        first = idempotency.lookup(session, patient=patient, key=key, scope=SCOPE, request_hash=request_hash)
        if first is None:
            raise
        return _replay(session, patient, first)


def _create(
    session: Session,
    patient: Patient,
    data: CheckinIn,
    result: RiskResult,
    *,
    key: str | None,
    request_hash: str | None,
) -> CheckinCreated:
    recorded_at = timing.client_moment(data.recorded_at, patient, field="recorded_at")
    note = clean_note(data.note)
    tags = check_tags(data.tags)
    # Reads first, writes together: the rows of this check-in go out in one batch at commit.
    with unit_of_work(session), session.no_autoflush:
        checkin_id = new_id()
        exchange = _exchange(session, patient, checkin_id, recorded_at, note)
        if exchange is not None:
            result = exchange_risk.read_together(result, exchange, patient.locale)
        checkin = CheckIn(
            id=checkin_id,
            patient_id=patient.id,
            recorded_at=recorded_at,
            local_date=timing.local_date(recorded_at, patient),
            mood=data.mood,
            anxiety=data.anxiety,
            sleep_hours=round(data.sleep_hours, 2) if data.sleep_hours is not None else None,
            energy=data.energy,
            note=note,
            tags=tags,
            risk_level=result.level.label,
            risk_categories=list(result.categories),
            risk_engine_version=result.engine_version,
        )
        session.add(checkin)
        notice = alerts.respond_to_risk(
            session,
            patient=patient,
            source_type=SCOPE,
            source_id=checkin.id,
            result=result,
            row=checkin,
            exchange=exchange if exchange_risk.is_exchange(result) else None,
        )
        follow_up = _start_follow_ups(session, patient, result.categories)
        if key is not None and request_hash is not None:
            idempotency.remember(
                session, patient=patient, key=key, scope=SCOPE, request_hash=request_hash, resource_id=checkin.id
            )
        audit.record(
            session,
            actor=Actor.client(patient),
            action="checkin.create",
            entity=checkin,
            detail={"local_date": checkin.local_date.isoformat(), "risk_level": checkin.risk_level},
        )
    return CheckinCreated(
        **_out(checkin).model_dump(), **alerts.crisis_or_support(result.level, notice), follow_up=follow_up
    )


def _exchange(
    session: Session, patient: Patient, checkin_id: str, recorded_at: datetime, note: str | None
) -> list[Said] | None:
    """The client's check-in notes of the 72 hours before this one, oldest first, this note last, when
    this note carries a warning sign that could add up with them (one indexed read; none otherwise).

    Questionnaires hold no free text in Tandem (their answers are numbers, screened by the
    instrument rules), so the notes are the client's words of those days."""
    if note is None or not exchange_risk.opens_history(note, patient.locale):
        return None
    rows = session.execute(
        sa_select(col(CheckIn.id), col(CheckIn.recorded_at), col(CheckIn.note))
        .where(
            col(CheckIn.patient_id) == patient.id,
            col(CheckIn.recorded_at) >= recorded_at - exchange_risk.WINDOW,
            col(CheckIn.recorded_at) <= recorded_at,
            col(CheckIn.note).is_not(None),
        )
        .order_by(col(CheckIn.recorded_at).desc(), col(CheckIn.id).desc())
        .limit(exchange_risk.MAX_EARLIER)
    ).all()
    earlier = [Said(SCOPE, row_id, at, text) for row_id, at, text in reversed(rows) if text]
    return [*earlier, Said(SCOPE, checkin_id, recorded_at, note)]


def _start_follow_ups(session: Session, patient: Patient, categories: Sequence[str]) -> list[str]:
    """Questionnaires the note's risk calls for (the C-SSRS after thoughts of suicide), due now."""
    rules = schedules.note_follow_ups_for(categories)
    return schedules.request_follow_ups(session, patient=patient, rules=rules, actor=Actor.system("checkins"))


def _replay(session: Session, patient: Patient, checkin_id: str) -> CheckinCreated:
    checkin = _own(session, patient, checkin_id)
    level = alerts.level_named(checkin.risk_level)
    notice = alerts.client_notice(session, patient=patient, level=level)
    follow_up = [rule.ask for rule in schedules.note_follow_ups_for(checkin.risk_categories)]
    return CheckinCreated(
        **_out(checkin).model_dump(),
        **alerts.crisis_or_support(level, notice),
        follow_up=list(dict.fromkeys(follow_up)),
    )


def clean_note(note: str | None) -> str | None:
    if note is None:
        return None
    note = note.strip()
    if len(note) > NOTE_MAX_CHARS:
        raise Invalid(f"note must be at most {NOTE_MAX_CHARS} characters; it has {len(note)}")
    return note or None


def get_checkin(session: Session, *, patient: Patient, checkin_id: str) -> CheckinOut:
    return _out(_own(session, patient, checkin_id))


def _own(session: Session, patient: Patient, checkin_id: str) -> CheckIn:
    checkin = session.exec(select(CheckIn).where(CheckIn.id == checkin_id, CheckIn.patient_id == patient.id)).first()
    if checkin is None:
        raise NotFound("no such check-in")
    return checkin


def list_checkins(
    session: Session,
    *,
    patient: Patient,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> CheckinPage:
    """The client's check-ins, newest first, `limit` at a time; pass `next_cursor` back for more."""
    pagination.check_limit(limit, MAX_PAGE)
    rows, next_cursor = pagination.keyset_page(
        session,
        select(CheckIn).where(CheckIn.patient_id == patient.id),
        moment=CheckIn.recorded_at,
        row_id=CheckIn.id,
        day=CheckIn.local_date,
        limit=limit,
        cursor=cursor,
        start=start,
        end=end,
    )
    return CheckinPage([_out(row) for row in rows], next_cursor)


def trend_window(
    patient: Patient, *, days: int | None = None, start: date | None = None, end: date | None = None
) -> tuple[date, date]:
    """The dates a trend covers: `days` ending today, or `start` to `end` (either defaulting sensibly)."""
    if days is not None and (start is not None or end is not None):
        raise Invalid("give either days or from/to, not both")
    end = end or timing.today_for(patient)
    if start is None:
        days = DEFAULT_TREND_DAYS if days is None else days
        if not 1 <= days <= MAX_TREND_DAYS:
            raise Invalid(f"days must be from 1 to {MAX_TREND_DAYS}")
        start = end - timedelta(days=days - 1)
    pagination.check_range(start, end)
    if (end - start).days + 1 > MAX_TREND_DAYS:
        raise Invalid(f"a trend covers at most {MAX_TREND_DAYS} days")
    return start, end


def trend(
    session: Session, *, patient: Patient, days: int | None = None, start: date | None = None, end: date | None = None
) -> TrendsOut:
    """Daily means and 7- and 28-day rolling means of each metric, in the patient's calendar."""
    start, end = trend_window(patient, days=days, start=start, end=end)
    # The rolling windows of the first days reach back 27 days before the chart starts.
    reach = start - timedelta(days=trends.LONG_WINDOW_DAYS - 1)
    # Only the numbers: loading whole rows would decrypt every note for nothing.
    columns = [col(CheckIn.local_date), *(col(getattr(CheckIn, metric)) for metric in METRICS)]
    rows = session.execute(
        sa_select(*columns).where(
            col(CheckIn.patient_id) == patient.id, col(CheckIn.local_date) >= reach, col(CheckIn.local_date) <= end
        )
    ).all()
    metrics: dict[str, list[TrendPoint]] = {}
    for index, metric in enumerate(METRICS, start=1):
        points = [(row[0], row[index]) for row in rows if row[index] is not None]
        metrics[metric] = [TrendPoint(**p._asdict()) for p in trends.daily_series(points, start, end)]
    return TrendsOut(start=start, end=end, timezone=patient.timezone, metrics=metrics)


def export_rows(session: Session, *, patient: Patient) -> list[dict[str, Any]]:
    """Every check-in of the patient, oldest first, decrypted, for their export."""
    rows = session.exec(
        select(CheckIn).where(CheckIn.patient_id == patient.id).order_by(col(CheckIn.recorded_at))
    ).all()
    return [_out(row).model_dump(mode="json") for row in rows]


def _out(checkin: CheckIn) -> CheckinOut:
    return CheckinOut.model_validate(checkin, from_attributes=True)
