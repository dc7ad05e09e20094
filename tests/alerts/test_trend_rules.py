from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from service.alerts import lifecycle
from service.alerts.trend_rules import run_trend_rules
from service.db import unit_of_work
from service.models import Alert, CheckIn
from service.models.base import utcnow
from tests.factories import active_patient, create_clinic


def _checkins(session: Session, patient, moods_by_days_ago: dict[int, int], now) -> None:  # type: ignore[no-untyped-def]
    zone = ZoneInfo(patient.timezone)
    with unit_of_work(session):
        for days_ago, mood in moods_by_days_ago.items():
            at = now - timedelta(days=days_ago)
            session.add(
                CheckIn(patient_id=patient.id, recorded_at=at, local_date=at.astimezone(zone).date(), mood=mood)
            )


def test_a_falling_mood_raises_a_routine_alert_once(session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = active_patient(session, setup)
    now = utcnow()
    history = {d: 7 for d in range(7, 28)} | {d: 3 for d in range(0, 7)}
    _checkins(session, patient, history, now)
    [alert_id] = run_trend_rules(session, now=now)
    alert = session.get(Alert, alert_id)
    assert alert is not None and alert.reason == "mood_decline" and alert.severity == "routine"
    [signal] = lifecycle.signals(session, alert=alert)
    assert signal["source_type"] == "trend" and signal["evidence"][0]["rule"] == "trend.mood_drop"
    # The next run does not pile up signals on the same trend.
    assert run_trend_rules(session, now=now + timedelta(hours=1)) == []


def test_missed_check_ins_raise_a_disengagement_alert(session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = active_patient(session, setup)
    now = utcnow()
    _checkins(session, patient, {10: 6, 9: 6}, now)
    raised = run_trend_rules(session, now=now)
    reasons = {session.get(Alert, a).reason for a in raised}  # type: ignore[union-attr]
    assert reasons == {"disengagement"}


def test_steady_check_ins_raise_nothing(session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = active_patient(session, setup)
    now = utcnow()
    _checkins(session, patient, {d: 6 for d in range(0, 28)}, now)
    assert run_trend_rules(session, now=now) == []
    assert session.exec(select(Alert)).all() == []
