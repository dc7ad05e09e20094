"""Clinical history for portal tests: check-ins and questionnaire answers on chosen days, and alerts
raised the way a client app raises them (a check-in through the service)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from service.checkins import service as checkins
from service.checkins.schemas import CheckinIn
from service.measures.scoring import score
from service.models import Alert, CheckIn, MeasureResponse, Patient
from service.models.base import utcnow

GOODBYE = "I've written my goodbye letters"
PASSIVE = "Sometimes I wish I could go to sleep and not wake up"


def days_ago(patient: Patient, days: int, hour: int = 12) -> datetime:
    """Noon (or ``hour``) on the patient's calendar, ``days`` days before today."""
    zone = ZoneInfo(patient.timezone)
    day = utcnow().astimezone(zone).date() - timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone)


def add_checkin(
    session: Session,
    patient: Patient,
    *,
    days: int,
    mood: int,
    anxiety: int | None = None,
    sleep_hours: float | None = None,
    note: str | None = None,
    tags: Sequence[str] = (),
) -> CheckIn:
    """A past check-in, stored as the service would have stored it (the note encrypted)."""
    at = days_ago(patient, days)
    row = CheckIn(
        patient_id=patient.id,
        recorded_at=at,
        local_date=at.date(),
        mood=mood,
        anxiety=anxiety,
        sleep_hours=sleep_hours,
        note=note,
        tags=list(tags),
    )
    session.add(row)
    session.commit()
    return row


def add_response(
    session: Session, patient: Patient, code: str, answers: Sequence[int], *, days: int
) -> MeasureResponse:
    at = days_ago(patient, days, hour=19)
    scored = score(code, list(answers))
    row = MeasureResponse(
        patient_id=patient.id,
        instrument=code,
        answers=list(answers),
        total=scored.total,
        severity=scored.severity,
        completed_at=at,
        local_date=at.date(),
    )
    session.add(row)
    session.commit()
    return row


def raise_alert(session: Session, patient: Patient, note: str = GOODBYE, mood: int = 2) -> Alert:
    """A check-in whose note raises (or adds to) an alert, through the real service."""
    checkins.submit(session, patient=patient, data=CheckinIn(mood=mood, note=note))
    session.expire_all()
    return session.exec(
        select(Alert).where(Alert.patient_id == patient.id).order_by(col(Alert.updated_at).desc())
    ).first()  # type: ignore[return-value]
