"""Trend rules, run daily by the scheduler: falling mood (7-day mean 3+ points under the 28-day
mean) and missed check-ins (no check-in for the patient's own number of days).

A trend persists for days, so one alert per reason is enough: a rule stays quiet while an alert for
the same reason is unresolved, and for a week after one was raised.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.alerts import lifecycle
from service.alerts.policy import reason_for
from service.db import unit_of_work
from service.models import Alert, AlertStatus, CheckIn, Patient, PatientStatus
from service.models.base import utcnow
from service.risk import RiskLevel, RiskResult, screen_missed_checkins, screen_mood_trend

QUIET_AFTER_ALERT = timedelta(days=7)
WINDOW_DAYS = 28


def run_trend_rules(session: Session, *, now: datetime | None = None) -> list[str]:
    """Screen every active patient's trends; returns the ids of alerts raised or updated."""
    now = now or utcnow()
    patients = session.exec(select(Patient).where(Patient.status == PatientStatus.ACTIVE)).all()
    if not patients:
        return []
    earliest = min(_today(p, now) for p in patients) - timedelta(days=WINDOW_DAYS)
    moods = _daily_moods(session, [p.id for p in patients], earliest)
    last_days = _last_checkin_days(session, [p.id for p in patients])
    raised: list[str] = []
    for patient in patients:
        today = _today(patient, now)
        last = last_days.get(patient.id) or _local_day(patient.activated_at or patient.created_at, patient)
        results = [
            screen_mood_trend(moods.get(patient.id, {}), today),
            screen_missed_checkins(last, today, patient.missed_checkin_days),
        ]
        for result in results:
            if result.level < RiskLevel.LOW or _quiet(session, patient, result, now):
                continue
            with unit_of_work(session):
                alert = lifecycle.raise_for(
                    session, patient=patient, source_type="trend", source_id=None, result=result, now=now
                )
            if alert is not None:
                raised.append(alert.id)
    return raised


def _today(patient: Patient, now: datetime) -> date:
    return now.astimezone(ZoneInfo(patient.timezone)).date()


def _local_day(moment: datetime, patient: Patient) -> date:
    return moment.astimezone(ZoneInfo(patient.timezone)).date()


def _daily_moods(session: Session, patient_ids: list[str], since: date) -> dict[str, dict[date, float]]:
    rows = session.exec(
        select(col(CheckIn.patient_id), col(CheckIn.local_date), func.avg(col(CheckIn.mood)))
        .where(col(CheckIn.patient_id).in_(patient_ids), col(CheckIn.local_date) >= since)
        .group_by(col(CheckIn.patient_id), col(CheckIn.local_date))
    ).all()
    moods: dict[str, dict[date, float]] = defaultdict(dict)
    for patient_id, day, mean in rows:
        moods[patient_id][day] = float(mean)
    return moods


def _last_checkin_days(session: Session, patient_ids: list[str]) -> dict[str, date]:
    rows = session.exec(
        select(col(CheckIn.patient_id), func.max(col(CheckIn.local_date)))
        .where(col(CheckIn.patient_id).in_(patient_ids))
        .group_by(col(CheckIn.patient_id))
    ).all()
    return {patient_id: day for patient_id, day in rows}


def _quiet(session: Session, patient: Patient, result: RiskResult, now: datetime) -> bool:
    reason = reason_for(lifecycle.primary_category(result))
    recent = session.exec(
        select(Alert.id).where(
            Alert.patient_id == patient.id,
            Alert.reason == reason,
            (col(Alert.status) != AlertStatus.RESOLVED) | (col(Alert.created_at) >= now - QUIET_AFTER_ALERT),
        )
    ).first()
    return recent is not None
