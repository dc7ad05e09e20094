"""What a summary says: one patient's period gathered from the capabilities' own service functions.

Nothing here renders or writes: `build_summary` reads, and returns plain values that the PDF
template lays out and that tests compare with the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from service.alerts import review as alert_review
from service.checkins import service as checkins
from service.checkins.trends import DailyPoint
from service.errors import Invalid
from service.kit.i18n import pick_locale
from service.measures import service as measures
from service.measures.instruments import get_instrument
from service.measures.service import Progress
from service.models import Alert, CheckIn, Clinic, MeasureResponse, Patient, PatientSummary, Staff
from service.models.base import utcnow
from service.safety_plan.service import EMPTY as EMPTY_PLAN
from service.safety_plan.service import Plan
from service.safety_plan.service import current as current_safety_plan
from service.summaries.exercises import ExerciseSummary, exercise_summary

DEFAULT_DAYS = 28
MAX_DAYS = checkins.MAX_TREND_DAYS
FLAG_TAG = "next_session"
CHART_METRICS = ("mood", "anxiety", "sleep_hours")
WEEK = 7


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    basis: str
    """last_session (since the last appointment), default (no session known), days (asked), since (asked)."""
    last_session_at: datetime | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class MetricSummary:
    metric: str
    points: list[DailyPoint]
    """One per day of the period: the day's mean and the 7-day mean."""
    count: int
    mean: float | None
    low: float | None
    high: float | None
    first_week: float | None
    last_week: float | None


@dataclass(frozen=True)
class PeriodResponse:
    instrument: str
    completed_at: datetime
    total: int | None
    severity: str
    severity_label: str
    item9: int | None


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    acknowledged_by: str | None
    resolved_by: str | None
    words: tuple[tuple[str, dict[str, Any] | None], ...] = ()
    """The client's words that raised it: the strongest signal's evidence, strongest first, each with
    the message it comes from when several messages were read together."""


@dataclass(frozen=True)
class FlaggedTopic:
    local_date: date
    recorded_at: datetime
    note: str | None
    tags: list[str]


@dataclass(frozen=True)
class SummaryView:
    lang: str
    clinic: Clinic
    patient: Patient
    clinician_name: str
    period: Period
    generated_at: datetime
    metrics: dict[str, MetricSummary]
    checkin_days: int
    progress: Progress
    responses: list[PeriodResponse]
    alerts: list[AlertRow]
    topics: list[FlaggedTopic]
    exercises: ExerciseSummary
    safety_plan: Plan = EMPTY_PLAN

    @property
    def alerts_raised(self) -> int:
        """Alerts raised inside the period (the table also lists older ones still open at its start)."""
        start = _day_start(self.period.start, self.clinic.timezone)
        return sum(1 for row in self.alerts if row.alert.created_at >= start)

    @property
    def alerts_open(self) -> int:
        return sum(1 for row in self.alerts if row.alert.status != "resolved")


def build_summary(
    session: Session,
    patient: Patient,
    *,
    days: int | None = None,
    since: date | None = None,
    lang: str | None = None,
    now: datetime | None = None,
) -> SummaryView:
    """Everything the summary of `patient` shows, for the period asked (or since the last session)."""
    now = now or utcnow()
    clinic = session.get(Clinic, patient.clinic_id)
    clinician = session.get(Staff, patient.clinician_id)
    assert clinic is not None and clinician is not None  # foreign keys
    period = choose_period(session, patient, clinic, days=days, since=since, now=now)
    metrics = _metrics(session, patient, period)
    lang = pick_locale(lang or clinic.locale)
    start, end = _day_start(period.start, clinic.timezone), _day_start(period.end + timedelta(days=1), clinic.timezone)
    return SummaryView(
        lang=lang,
        clinic=clinic,
        patient=patient,
        clinician_name=clinician.name,
        period=period,
        generated_at=now,
        metrics=metrics,
        # Every check-in has a mood, so the days with a mood are the days with a check-in.
        checkin_days=metrics["mood"].count,
        progress=measures.progress(session, patient=patient),
        responses=_responses(session, patient, period, lang),
        alerts=_alerts(session, patient, period, clinic.timezone),
        topics=_flagged_topics(session, patient, period),
        exercises=exercise_summary(session, patient, start=start, end=end, days=period.days, lang=lang, now=now),
        safety_plan=current_safety_plan(session, patient_id=patient.id),
    )


# --- the period ---------------------------------------------------------------------------------


def choose_period(
    session: Session,
    patient: Patient,
    clinic: Clinic,
    *,
    days: int | None = None,
    since: date | None = None,
    now: datetime,
) -> Period:
    """`days` ending today, or from `since`, or since the last session, or the last 28 days.

    Today is the clinic's today: the summary is read there, before a session held there.
    """
    if days is not None and since is not None:
        raise Invalid("give either days or a start date, not both")
    today = now.astimezone(ZoneInfo(clinic.timezone)).date()
    if days is not None:
        if not 1 <= days <= MAX_DAYS:
            raise Invalid(f"days must be from 1 to {MAX_DAYS}")
        return Period(today - timedelta(days=days - 1), today, "days")
    if since is not None:
        if since > today:
            raise Invalid("the start date is in the future")
        return Period(max(since, today - timedelta(days=MAX_DAYS - 1)), today, "since")
    last = last_session(session, patient, now)
    if last is None:
        return Period(today - timedelta(days=DEFAULT_DAYS - 1), today, "default")
    start = last.astimezone(ZoneInfo(clinic.timezone)).date()
    return Period(max(start, today - timedelta(days=MAX_DAYS - 1)), today, "last_session", last)


def last_session(session: Session, patient: Patient, now: datetime) -> datetime | None:
    """The latest appointment already past: the patient's next appointment once its time has come,
    or the appointment of an earlier scheduled summary (clinicians move `next_appointment_at` on
    after each session, but the summary made for that session remembers when it was)."""
    past = session.exec(
        select(PatientSummary.appointment_at)
        .where(
            PatientSummary.patient_id == patient.id,
            col(PatientSummary.appointment_at).is_not(None),
            col(PatientSummary.appointment_at) <= now,
        )
        .order_by(col(PatientSummary.appointment_at).desc())
        .limit(1)
    ).first()
    candidates = [moment for moment in (past, patient.next_appointment_at) if moment is not None and moment <= now]
    return max(candidates, default=None)


def _day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time.min, ZoneInfo(timezone)).astimezone(UTC)


# --- check-ins ----------------------------------------------------------------------------------


def _metrics(session: Session, patient: Patient, period: Period) -> dict[str, MetricSummary]:
    trend = checkins.trend(session, patient=patient, start=period.start, end=period.end)
    summaries = {}
    for metric in CHART_METRICS:
        points = [DailyPoint(p.day, p.value, p.mean_7, p.mean_28) for p in trend.metrics[metric]]
        summaries[metric] = _summarise(metric, points, period)
    return summaries


def _summarise(metric: str, points: list[DailyPoint], period: Period) -> MetricSummary:
    values = [p.value for p in points if p.value is not None]
    # First and last weeks only mean something when they do not overlap.
    split = period.days >= 2 * WEEK
    return MetricSummary(
        metric=metric,
        points=points,
        count=len(values),
        mean=_mean(values),
        low=min(values, default=None),
        high=max(values, default=None),
        first_week=_mean([p.value for p in points[:WEEK] if p.value is not None]) if split else None,
        last_week=_mean([p.value for p in points[-WEEK:] if p.value is not None]) if split else None,
    )


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _flagged_topics(session: Session, patient: Patient, period: Period) -> list[FlaggedTopic]:
    """Check-ins the client tagged for their next session; only those notes are decrypted."""
    tagged = session.execute(
        sa_select(col(CheckIn.id), col(CheckIn.tags)).where(
            col(CheckIn.patient_id) == patient.id,
            col(CheckIn.local_date) >= period.start,
            col(CheckIn.local_date) <= period.end,
        )
    ).all()
    wanted = [row[0] for row in tagged if FLAG_TAG in (row[1] or [])]
    if not wanted:
        return []
    rows = session.exec(select(CheckIn).where(col(CheckIn.id).in_(wanted)).order_by(col(CheckIn.recorded_at))).all()
    return [
        FlaggedTopic(row.local_date, row.recorded_at, row.note, [tag for tag in row.tags if tag != FLAG_TAG])
        for row in rows
    ]


# --- questionnaires and alerts ------------------------------------------------------------------


def _responses(session: Session, patient: Patient, period: Period, lang: str) -> list[PeriodResponse]:
    rows = session.exec(
        select(MeasureResponse)
        .where(MeasureResponse.patient_id == patient.id, col(MeasureResponse.local_date) >= period.start)
        .where(col(MeasureResponse.local_date) <= period.end)
        .order_by(col(MeasureResponse.completed_at), col(MeasureResponse.created_at))
    ).all()
    return [
        PeriodResponse(
            instrument=row.instrument,
            completed_at=row.completed_at,
            total=row.total,
            severity=row.severity,
            severity_label=severity_label(row.instrument, row.severity, lang),
            item9=row.answers[8] if row.instrument == "phq9" and len(row.answers) >= 9 else None,
        )
        for row in rows
    ]


def severity_label(instrument: str, key: str, lang: str) -> str:
    """The band (PHQ-9, GAD-7) or triage level (C-SSRS) of a stored response, in `lang`."""
    definition = get_instrument(instrument)
    locale = pick_locale(lang)
    for band in definition.severity_bands:
        if band.key == key:
            return band.label[locale]
    for level in definition.triage_levels:
        if level.key == key:
            return level.label[locale]
    return key


def _alerts(session: Session, patient: Patient, period: Period, timezone: str) -> list[AlertRow]:
    """Alerts raised in the period, and older ones that were still unresolved when it began."""
    start = _day_start(period.start, timezone)
    end = _day_start(period.end + timedelta(days=1), timezone)
    found = session.exec(
        select(Alert)
        .where(Alert.patient_id == patient.id, col(Alert.created_at) < end)
        .where((col(Alert.created_at) >= start) | col(Alert.resolved_at).is_(None) | (col(Alert.resolved_at) >= start))
        .order_by(col(Alert.created_at))
    ).all()
    names = _staff_names(session, {a.acknowledged_by for a in found} | {a.resolved_by for a in found})
    words = alert_review.leading_words(session, alert_ids=[a.id for a in found])
    return [
        AlertRow(
            alert,
            names.get(alert.acknowledged_by or ""),
            names.get(alert.resolved_by or ""),
            tuple(words.get(alert.id, ())),
        )
        for alert in found
    ]


def _staff_names(session: Session, ids: set[str | None]) -> dict[str, str]:
    wanted = {staff_id for staff_id in ids if staff_id}
    if not wanted:
        return {}
    return {s.id: s.name for s in session.exec(select(Staff).where(col(Staff.id).in_(wanted))).all()}
