"""The caseload at a glance: for each patient a staff member may see, the last check-in, the mood of
the last four weeks, the latest PHQ-9 and GAD-7 with reliable change, open alerts and adherence to
the exercises of the last four weeks.

The figures of the whole caseload come from one grouped query per kind of data (check-ins,
questionnaires, alerts, assignments, sessions), never one per patient. Showing them is a read of each patient's health
data, so each patient on the page gets an audit row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from service import audit
from service.alerts import lifecycle
from service.caseload.service import SORTS as BASE_SORTS
from service.caseload.service import CaseloadEntry, caseload
from service.checkins import trends
from service.db import unit_of_work
from service.errors import Invalid
from service.exercises import assignments
from service.exercises.assignments import CaseloadAdherence
from service.kit import timing
from service.kit.context import Actor
from service.measures.change import Change, assess_change
from service.models import Alert, AlertStatus, CheckIn, MeasureResponse, Patient, PatientStatus, Severity, Staff
from service.models.base import utcnow

MOOD_DAYS = 28
QUIET_DAYS = 7
INSTRUMENTS = ("phq9", "gad7")

SORTS = (*BASE_SORTS, "last_checkin", "mood", "phq9", "gad7", "alerts", "adherence")
ALERT_FILTERS = ("open", "urgent")
MEASURE_FILTERS = ("case", "deteriorated", "improved")
CHECKIN_FILTERS = ("quiet",)
EXERCISE_FILTERS = ("low", "unassigned")
LOW_ADHERENCE = 0.5


@dataclass(frozen=True)
class LatestScore:
    """The latest total of one questionnaire and the change since the episode's first."""

    instrument: str
    total: int
    severity: str
    completed_at: datetime
    change: Change


@dataclass(frozen=True)
class PatientOverview:
    entry: CaseloadEntry
    last_checkin_at: datetime | None
    mood: list[float | None]
    """Daily mean mood of the last ``MOOD_DAYS`` days of the patient's calendar, oldest first."""
    mood_week: float | None
    """Mean mood of the last 7 days (days without a check-in do not count)."""
    scores: dict[str, LatestScore] = field(default_factory=dict)
    open_alerts: dict[Severity, int] = field(default_factory=dict)
    adherence: CaseloadAdherence | None = None

    @property
    def patient(self) -> Patient:
        return self.entry.patient

    @property
    def phq9(self) -> LatestScore | None:
        return self.scores.get("phq9")

    @property
    def gad7(self) -> LatestScore | None:
        return self.scores.get("gad7")

    @property
    def open_alert_count(self) -> int:
        return sum(self.open_alerts.values())

    @property
    def top_severity(self) -> Severity | None:
        present = [s for s, n in self.open_alerts.items() if n]
        return max(present, key=lambda s: s.rank) if present else None


@dataclass(frozen=True)
class OverviewFilters:
    name: str | None = None
    status: PatientStatus | str | None = None
    alerts: str | None = None  # "open" or "urgent"
    measures: str | None = None  # "case", "deteriorated" or "improved"
    checkins: str | None = None  # "quiet": no check-in in the last week
    exercises: str | None = None  # "low": under half of what was due done; "unassigned": no exercise

    def check(self) -> None:
        for value, allowed, what in (
            (self.alerts, ALERT_FILTERS, "alerts"),
            (self.measures, MEASURE_FILTERS, "measures"),
            (self.checkins, CHECKIN_FILTERS, "checkins"),
            (self.exercises, EXERCISE_FILTERS, "exercises"),
        ):
            if value and value not in allowed:
                raise Invalid(f"{what} filter must be one of {', '.join(allowed)}")

    @property
    def active(self) -> bool:
        return any(
            (self.name and self.name.strip(), self.status, self.alerts, self.measures, self.checkins, self.exercises)
        )


def overview(
    session: Session, staff: Staff, filters: OverviewFilters | None = None, *, sort: str = "name"
) -> list[PatientOverview]:
    """The caseload (``caseload.caseload``: same visibility) with each patient's figures, filtered and sorted."""
    filters = filters or OverviewFilters()
    filters.check()
    if sort not in SORTS:
        raise Invalid(f"sort must be one of {', '.join(SORTS)}")
    with unit_of_work(session):
        entries = caseload(
            session,
            staff,
            name=filters.name,
            status=filters.status or None,
            sort=sort if sort in BASE_SORTS else "name",
        )
        rows = figures(session, staff, entries)
        rows = [row for row in rows if _matches(row, filters)]
        if sort not in BASE_SORTS:
            rows.sort(key=_SORT_KEYS[sort])  # stable: ties stay in name order
        audit.record_reads(
            session, actor=Actor.staff(staff), action="patient.list", patient_ids=[r.patient.id for r in rows]
        )
    return rows


def figures(session: Session, staff: Staff, entries: Sequence[CaseloadEntry]) -> list[PatientOverview]:
    """The figures of these caseload entries, in a few grouped queries whatever their number."""
    patients = [entry.patient for entry in entries]
    ids = [p.id for p in patients]
    last_checkins = _last_checkins(session, ids)
    moods = _mood_points(session, patients)
    scores = _scores(session, ids)
    alerts = _open_alerts(session, staff, ids)
    adherence = assignments.adherence_by_patient(session, patients)
    overviews = []
    for entry in entries:
        patient = entry.patient
        series = _mood_series(patient, moods.get(patient.id, []))
        overviews.append(
            PatientOverview(
                entry=entry,
                last_checkin_at=last_checkins.get(patient.id),
                mood=[point.value for point in series],
                mood_week=series[-1].mean_7 if series else None,
                scores=scores.get(patient.id, {}),
                open_alerts=alerts.get(patient.id, {}),
                adherence=adherence.get(patient.id),
            )
        )
    return overviews


def _last_checkins(session: Session, ids: list[str]) -> dict[str, datetime]:
    if not ids:
        return {}
    rows = session.execute(
        sa_select(col(CheckIn.patient_id), func.max(col(CheckIn.recorded_at)))
        .where(col(CheckIn.patient_id).in_(ids))
        .group_by(col(CheckIn.patient_id))
    ).all()
    return {pid: _aware(at) for pid, at in rows if at is not None}


def _aware(moment: datetime) -> datetime:
    # max() comes back without the column's type on SQLite; times are stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def _mood_points(session: Session, patients: list[Patient]) -> dict[str, list[tuple[date, int]]]:
    if not patients:
        return {}
    # Time zones put "today" at most a day apart, so one cut-off covers every patient's window.
    earliest = utcnow().date() - timedelta(days=MOOD_DAYS + 1)
    rows = session.execute(
        sa_select(col(CheckIn.patient_id), col(CheckIn.local_date), col(CheckIn.mood)).where(
            col(CheckIn.patient_id).in_([p.id for p in patients]), col(CheckIn.local_date) >= earliest
        )
    ).all()
    found: dict[str, list[tuple[date, int]]] = {}
    for pid, day, mood in rows:
        found.setdefault(pid, []).append((day, mood))
    return found


def _mood_series(patient: Patient, points: list[tuple[date, int]]) -> list[trends.DailyPoint]:
    today = timing.today_for(patient)
    return trends.daily_series(points, today - timedelta(days=MOOD_DAYS - 1), today)


def _scores(session: Session, ids: list[str]) -> dict[str, dict[str, LatestScore]]:
    if not ids:
        return {}
    rows = session.execute(
        sa_select(
            col(MeasureResponse.patient_id),
            col(MeasureResponse.instrument),
            col(MeasureResponse.total),
            col(MeasureResponse.severity),
            col(MeasureResponse.completed_at),
        )
        .where(
            col(MeasureResponse.patient_id).in_(ids),
            col(MeasureResponse.instrument).in_(INSTRUMENTS),
            col(MeasureResponse.total).is_not(None),
        )
        .order_by(col(MeasureResponse.completed_at), col(MeasureResponse.created_at))
    ).all()
    series: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        series.setdefault((row[0], row[1]), []).append(row)
    found: dict[str, dict[str, LatestScore]] = {}
    for (pid, instrument), answered in series.items():
        latest = answered[-1]
        change = assess_change(instrument, [(r[4], r[2]) for r in answered])
        found.setdefault(pid, {})[instrument] = LatestScore(instrument, latest[2], latest[3], latest[4], change)
    return found


def _open_alerts(session: Session, staff: Staff, ids: list[str]) -> dict[str, dict[Severity, int]]:
    if not ids:
        return {}
    alerts = session.exec(
        lifecycle.visible_to(staff).where(col(Alert.patient_id).in_(ids), col(Alert.status) != AlertStatus.RESOLVED)
    ).all()
    found: dict[str, dict[Severity, int]] = {}
    for alert in alerts:
        counts = found.setdefault(alert.patient_id, {})
        severity = Severity(alert.severity)
        counts[severity] = counts.get(severity, 0) + 1
    return found


def _matches(row: PatientOverview, filters: OverviewFilters) -> bool:
    if filters.alerts == "open" and not row.open_alert_count:
        return False
    if filters.alerts == "urgent" and row.top_severity != Severity.URGENT:
        return False
    changes = [score.change for score in row.scores.values()]
    if filters.measures == "case" and not any(c.caseness_latest for c in changes):
        return False
    if filters.measures == "deteriorated" and not any(c.reliable_deterioration for c in changes):
        return False
    if filters.measures == "improved" and not (
        any(c.reliable_improvement for c in changes) and not any(c.reliable_deterioration for c in changes)
    ):
        return False
    if filters.exercises and not _exercises_match(row, filters.exercises):
        return False
    if filters.checkins == "quiet":
        recent = row.last_checkin_at is not None and row.last_checkin_at >= utcnow() - timedelta(days=QUIET_DAYS)
        if recent:
            return False
    return True


def _exercises_match(row: PatientOverview, wanted: str) -> bool:
    if wanted == "unassigned":
        return row.adherence is None or row.adherence.open_assignments == 0
    rate = _adherence_rate(row)
    return rate is not None and rate < LOW_ADHERENCE


def _adherence_rate(row: PatientOverview) -> float | None:
    return row.adherence.summary.rate if row.adherence is not None else None


_NEVER = datetime.min.replace(tzinfo=utcnow().tzinfo)


def _score_key(code: str) -> Callable[[PatientOverview], tuple[bool, int]]:
    # Highest first; patients without a score last.
    return lambda r: (r.scores.get(code) is None, -(r.scores[code].total if code in r.scores else 0))


_SORT_KEYS: dict[str, Callable[[PatientOverview], Any]] = {
    # Those who have gone quiet longest first: they are the ones to reach out to.
    "last_checkin": lambda r: r.last_checkin_at or _NEVER,
    # Lowest recent mood first; no recent check-in last.
    "mood": lambda r: (r.mood_week is None, r.mood_week if r.mood_week is not None else 0.0),
    "phq9": _score_key("phq9"),
    "gad7": _score_key("gad7"),
    # Most severe open alert first, then the most alerts.
    "alerts": lambda r: (-(r.top_severity.rank + 1 if r.top_severity else 0), -r.open_alert_count),
    # Least done first; nothing due last.
    "adherence": lambda r: (_adherence_rate(r) is None, _adherence_rate(r) or 0.0),
}
