"""The caseload at a glance: for each patient a staff member may see, the last check-in, the mood of
the last four weeks, the latest PHQ-9 and GAD-7 with reliable change, open alerts and adherence to
the exercises of the last four weeks.

The caseload is paged. Which patients match, and in which order, is decided over the whole caseload
in one query: filters run in SQL, and the figures a sort or filter needs come from
``PatientFigures`` (the last check-in, the first and latest PHQ-9 and GAD-7, kept current by the
database as they are written) or, for the week's mood, an index range of seven days: never a scan
of a year of rows. Names are encrypted at rest, so the name filter and the name order are
applied to the decrypted names of that one query's rows. Only the page shown then gets its full
figures, in one grouped query per kind of data (check-ins, questionnaires, alerts, assignments,
sessions). Showing the page is a read of those patients' health data: one audit row records it,
naming every patient shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Float, Text, and_, case, cast, exists, func, literal, not_, or_, type_coerce
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType
from sqlmodel import Session, col, select

from service import audit
from service.caseload.service import SORTS as BASE_SORTS
from service.caseload.service import CaseloadEntry, invitation_states
from service.checkins import trends
from service.crypto import get_cipher
from service.db import unit_of_work
from service.errors import Forbidden, Invalid
from service.exercises import assignments
from service.exercises.assignments import CaseloadAdherence
from service.kit import timing
from service.kit.context import Actor
from service.kit.text import fold
from service.measures.change import Change, change_between
from service.measures.instruments import get_instrument
from service.models import (
    Alert,
    AlertStatus,
    CheckIn,
    Patient,
    PatientFigures,
    PatientStatus,
    Role,
    Severity,
    Staff,
)
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
PAGE_SIZE = 50
NAME_CONTEXT = "patient.display_name"  # the associated data Patient.display_name is encrypted with
MAX_PAGE_SIZE = 200


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


@dataclass(frozen=True)
class OverviewPage:
    """One page of the caseload, and how many patients matched in all."""

    rows: list[PatientOverview]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last_number(self) -> int:
        return (self.page - 1) * self.page_size + len(self.rows)


# A patient who may be on the page, with what sorting and filtering need, not yet their figures: a
# plain tuple (id, name folded case- and accent-blind, the chosen order's value), one small object
# per patient of a 10,000-patient caseload rather than an object and a dict each. The value is the
# status, a time (the database's raw value: compared, never shown), the week's mood, a questionnaire
# total, the open alerts by severity or the adherence rate; None when the patient has none.
_Candidate = tuple[str, str, Any]


def overview_page(
    session: Session,
    *,
    staff: Staff,
    filters: OverviewFilters | None = None,
    sort: str = "name",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> OverviewPage:
    """One page of the caseload (same visibility as ``caseload.caseload``), filtered and sorted over
    the whole caseload, with the page's figures and one audit row naming the patients shown."""
    filters = filters or OverviewFilters()
    filters.check()
    if sort not in SORTS:
        raise Invalid(f"sort must be one of {', '.join(SORTS)}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid(f"a page shows from 1 to {MAX_PAGE_SIZE} patients")
    if page < 1:
        raise Invalid("pages are numbered from 1")
    return _overview(session, staff, filters, sort=sort, page=page, page_size=page_size)


def _overview(
    session: Session, staff: Staff, filters: OverviewFilters, *, sort: str, page: int, page_size: int | None
) -> OverviewPage:
    if not staff.active:
        raise Forbidden("this account is deactivated")
    with unit_of_work(session):
        candidates = _candidates(session, staff, filters, sort)
        total = len(candidates)
        page_size = page_size or max(total, 1)
        start = (page - 1) * page_size
        shown = candidates[start : start + page_size]
        rows = _page_rows(session, staff, [candidate[0] for candidate in shown])
        audit.record(
            session,
            actor=Actor.staff(staff),
            action="patient.list",
            entity_type="caseload",
            entity_id=staff.id,
            detail={
                "patient_ids": [row.patient.id for row in rows],
                "matched": total,
                "page": page,
                "sort": sort,
                "filters": _filters_used(filters),
            },
        )
    return OverviewPage(rows, total, page, page_size)


def _filters_used(filters: OverviewFilters) -> dict[str, str | bool]:
    # Which filters were on, never the name typed: that is a patient's name.
    used: dict[str, str | bool] = {"name": bool(filters.name and filters.name.strip())}
    for key in ("status", "alerts", "measures", "checkins", "exercises"):
        value = getattr(filters, key)
        if value:
            used[key] = str(value)
    return used


def _candidates(session: Session, staff: Staff, filters: OverviewFilters, sort: str) -> list[_Candidate]:
    """Every patient of the caseload that matches, in order: one query reading each patient's id,
    name and the one value the order needs, then the decrypted (cached) names."""
    now = utcnow()
    query = sa_select(
        col(Patient.id),
        type_coerce(col(Patient.display_name), Text),  # the ciphertext: decrypted through the cache
    ).where(col(Patient.clinic_id) == staff.clinic_id, col(Patient.erased_at).is_(None))
    if staff.role != Role.ADMIN:
        query = query.where(col(Patient.clinician_id) == staff.id)
    if filters.status:
        query = query.where(col(Patient.status) == PatientStatus(filters.status))
    # The figures kept current by the database (PatientFigures): one row per patient, no history read.
    query = query.outerjoin(PatientFigures, col(PatientFigures.patient_id) == col(Patient.id))
    last = col(PatientFigures.last_checkin_at)
    if filters.checkins == "quiet":
        query = query.where(or_(last.is_(None), last < now - timedelta(days=QUIET_DAYS)))
    if filters.measures:
        query = query.where(_measures_filter(filters.measures))
    if filters.alerts:
        query = query.where(_open_alert_exists(urgent_only=filters.alerts == "urgent"))
    if sort == "mood":
        query = query.add_columns(_mood_week(now))
    elif sort in _KEY_COLUMNS:
        query = query.add_columns(type_coerce(_KEY_COLUMNS[sort], NullType()))  # raw: compared, never shown

    # Through the connection, not the ORM: plain rows, without the ORM's per-row loading (a third of
    # the page's time for 10,000 patients).
    rows: Sequence[Any] = session.connection().execute(query).all()
    found: list[_Candidate]
    if len(query.selected_columns) > 2:
        found = [(pid, _folded_name(name), key) for pid, name, key in rows]
    else:
        found = [(pid, _folded_name(name), None) for pid, name in rows]
    if filters.name and filters.name.strip():
        needle = fold(filters.name)
        found = [c for c in found if needle in c[1]]
    if sort == "alerts":
        counts = _open_alerts_in_caseload(session, staff)
        found = [(pid, name, counts.get(pid)) for pid, name, _ in found]
    if sort == "adherence" or filters.exercises:
        found = _with_adherence(session, found, filters.exercises, order=sort == "adherence")
    return _sorted(found, sort)


# The column each order reads (besides names, alerts and adherence, which come from elsewhere).
_KEY_COLUMNS: dict[str, Any] = {
    "status": col(Patient.status),
    "appointment": col(Patient.next_appointment_at),
    "created": col(Patient.created_at),
    "last_checkin": col(PatientFigures.last_checkin_at),
    "phq9": col(PatientFigures.phq9_latest),
    "gad7": col(PatientFigures.gad7_latest),
}


@lru_cache(maxsize=100_000)
def _folded_name(ciphertext: str) -> str:
    """A patient's name, decrypted and folded for matching and ordering. Cached by ciphertext: a
    renamed patient has a new ciphertext, and an admin's caseload of 10,000 does not pay 10,000
    decryptions on every page. Held in memory only, as the names on any page are."""
    return fold(get_cipher().decrypt(ciphertext, NAME_CONTEXT))


def _open_alerts_in_caseload(session: Session, staff: Staff) -> dict[str, dict[Severity, int]]:
    """Open alerts by patient and severity over the whole caseload: one grouped query, no id list."""
    query = (
        sa_select(col(Alert.patient_id), col(Alert.severity), func.count())
        .join(Patient, col(Patient.id) == col(Alert.patient_id))
        .where(col(Patient.clinic_id) == staff.clinic_id, col(Alert.status) != AlertStatus.RESOLVED)
        .group_by(col(Alert.patient_id), col(Alert.severity))
    )
    if staff.role != Role.ADMIN:
        query = query.where(col(Patient.clinician_id) == staff.id)
    found: dict[str, dict[Severity, int]] = {}
    for patient_id, severity, count in session.execute(query).all():
        found.setdefault(patient_id, {})[Severity(severity)] = int(count)
    return found


def _figure(code: str, which: str) -> Any:
    """``phq9_latest``, ``gad7_first``...: a questionnaire total kept in PatientFigures."""
    return getattr(PatientFigures, f"{code}_{which}")


def _mood_week(now: datetime) -> ColumnElement[Any]:
    """Mean mood of the last 7 days per patient from the day slots PatientFigures keeps (migration
    0020): the sum and count of the slots whose day falls within the week, one row per patient, no
    check-in read. "Today" is in UTC (the page shows each patient's own calendar, at most a day
    apart)."""
    since = now.date() - timedelta(days=QUIET_DAYS - 1)
    total: ColumnElement[Any] = literal(0)
    count: ColumnElement[Any] = literal(0)
    for k in range(7):
        within = getattr(PatientFigures, f"mood_day{k}") >= since
        total = total + case((within, getattr(PatientFigures, f"mood_sum{k}")), else_=0)
        count = count + case((within, getattr(PatientFigures, f"mood_n{k}")), else_=0)
    return case((count > 0, cast(total, Float) / count), else_=None)


def _measures_filter(wanted: str) -> ColumnElement[bool]:
    """The questionnaire filters in SQL, with each instrument's thresholds (as ``assess_change``)."""
    case, worse, better = [], [], []
    for code in INSTRUMENTS:
        rules = get_instrument(code).change_rules
        assert rules is not None
        latest, first = _figure(code, "latest"), _figure(code, "first")
        case.append(latest >= rules.caseness)
        worse.append(latest - first >= rules.reliable_change)
        better.append(latest - first <= -rules.reliable_change)
    if wanted == "case":
        return or_(*case)
    if wanted == "deteriorated":
        return or_(*worse)
    return and_(or_(*better), not_(or_(*(func.coalesce(w, False) for w in worse))))


def _open_alert_exists(*, urgent_only: bool) -> ColumnElement[bool]:
    # A staff member sees every alert of the patients in their caseload (lifecycle.visible_to).
    conditions = [col(Alert.patient_id) == col(Patient.id), col(Alert.status) != AlertStatus.RESOLVED]
    if urgent_only:
        conditions.append(col(Alert.severity) == Severity.URGENT)
    return exists().where(*conditions).correlate(Patient)


def _with_adherence(session: Session, found: list[_Candidate], wanted: str | None, *, order: bool) -> list[_Candidate]:
    """Adherence of the exercises due in the last weeks, for the candidates (when asked for): kept
    as their order's value when ``order``."""
    patients = _patients(session, [c[0] for c in found])
    adherence = assignments.adherence_by_patient(session, list(patients.values()))
    kept = []
    for pid, name, key in found:
        summary = adherence.get(pid)
        rate = summary.summary.rate if summary is not None else None
        if wanted == "unassigned" and not (summary is None or summary.open_assignments == 0):
            continue
        if wanted == "low" and not (rate is not None and rate < LOW_ADHERENCE):
            continue
        kept.append((pid, name, rate if order else key))
    return kept


def _patients(session: Session, ids: list[str]) -> dict[str, Patient]:
    found: dict[str, Patient] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update({p.id: p for p in session.exec(select(Patient).where(col(Patient.id).in_(chunk))).all()})
    return found


def _sorted(found: list[_Candidate], sort: str) -> list[_Candidate]:
    found.sort(key=_BY_NAME)
    if sort != "name":
        found.sort(key=_CANDIDATE_KEYS[sort])  # stable: ties stay in name order
    return found


_BY_NAME = itemgetter(1)


def _missing_last(value: Any, *, descending: bool = False) -> tuple[bool, Any]:
    """An order key that puts patients without the value last (never comparing a value with None)."""
    if value is None:
        return True, 0
    return False, -value if descending else value


_CANDIDATE_KEYS: dict[str, Callable[[_Candidate], Any]] = {
    "status": lambda c: _STATUS_ORDER.get(c[2], 99),
    "appointment": lambda c: _missing_last(c[2]),
    "created": itemgetter(2),
    # Those who have gone quiet longest first (never checked in: first of all).
    "last_checkin": lambda c: (False, 0) if c[2] is None else (True, c[2]),
    # Lowest recent mood first; no recent check-in last.
    "mood": lambda c: (True, 0.0) if c[2] is None else (False, float(c[2])),
    # Highest first; no score last.
    "phq9": lambda c: (True, 0) if c[2] is None else (False, -c[2]),
    "gad7": lambda c: (True, 0) if c[2] is None else (False, -c[2]),
    # Most severe open alert first, then the most alerts; the value is the open alerts by severity.
    "alerts": lambda c: (
        (-max((s.rank + 1 for s, n in c[2].items() if n), default=0), -sum(c[2].values())) if c[2] else (0, 0)
    ),
    "adherence": lambda c: _missing_last(c[2]),
}


def _page_rows(session: Session, staff: Staff, ids: list[str]) -> list[PatientOverview]:
    """The full figures of the patients on the page, in the page's order."""
    patients: dict[str, Patient] = {}
    kept: dict[str, PatientFigures] = {}
    # The page's patients and their maintained figures (last check-in, first and latest PHQ-9 and
    # GAD-7) in one read of the page's rows: no aggregate over their history.
    for patient, patient_figures in session.execute(
        sa_select(Patient, PatientFigures)
        .outerjoin(PatientFigures, col(PatientFigures.patient_id) == col(Patient.id))
        .where(col(Patient.id).in_(ids))
    ).all():
        patients[patient.id] = patient
        if patient_figures is not None:
            kept[patient.id] = patient_figures
    clinicians = {
        s.id: s
        for s in session.exec(select(Staff).where(col(Staff.id).in_({p.clinician_id for p in patients.values()}))).all()
    }
    states = invitation_states(session, patient_ids=ids)
    entries = [
        CaseloadEntry(patients[i], clinicians[patients[i].clinician_id], states[i]) for i in ids if i in patients
    ]
    return figures(session, staff=staff, entries=entries, kept=kept)


def overview(
    session: Session, *, staff: Staff, filters: OverviewFilters | None = None, sort: str = "name"
) -> list[PatientOverview]:
    """The whole caseload at once (small caseloads, exports); the portal pages through ``overview_page``."""
    return _overview(session, staff, filters or OverviewFilters(), sort=sort, page=1, page_size=None).rows


def figures(
    session: Session, *, staff: Staff, entries: Sequence[CaseloadEntry], kept: dict[str, PatientFigures]
) -> list[PatientOverview]:
    """The figures of these caseload entries, from their maintained figures (``kept``) and a few
    grouped queries whatever their number."""
    patients = [entry.patient for entry in entries]
    ids = [p.id for p in patients]
    moods = _mood_points(session, patients)
    alerts = _open_alerts(session, staff, ids)
    adherence = assignments.adherence_by_patient(session, patients)
    overviews = []
    for entry in entries:
        patient = entry.patient
        series = _mood_series(patient, moods.get(patient.id, []))
        patient_figures = kept.get(patient.id)
        overviews.append(
            PatientOverview(
                entry=entry,
                last_checkin_at=patient_figures.last_checkin_at if patient_figures else None,
                mood=[point.value for point in series],
                mood_week=series[-1].mean_7 if series else None,
                scores=_scores(patient_figures) if patient_figures else {},
                open_alerts=alerts.get(patient.id, {}),
                adherence=adherence.get(patient.id),
            )
        )
    return overviews


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


def _scores(kept: PatientFigures) -> dict[str, LatestScore]:
    """The latest PHQ-9 and GAD-7 and their change since the first, from the figures the database
    keeps (first and latest total and time of each): never a read of the answers themselves. Two
    answers make a change; one alone is its own first and latest."""
    scores: dict[str, LatestScore] = {}
    for code in INSTRUMENTS:
        latest_total, latest_at = getattr(kept, f"{code}_latest"), getattr(kept, f"{code}_latest_at")
        first_total, first_at = getattr(kept, f"{code}_first"), getattr(kept, f"{code}_first_at")
        if latest_total is None or latest_at is None or first_total is None or first_at is None:
            continue
        first, latest = (_aware(first_at), int(first_total)), (_aware(latest_at), int(latest_total))
        change = change_between(code, first, latest, 1 if first == latest else 2)
        scores[code] = LatestScore(code, latest[1], _severity(code, latest[1]), latest[0], change)
    return scores


@lru_cache(maxsize=256)
def _severity(code: str, total: int) -> str:
    """The severity band of a total (as scoring gives it when the answers are stored)."""
    return next(band.key for band in get_instrument(code).severity_bands if band.contains(total))


def _aware(moment: datetime) -> datetime:
    # Times are stored in UTC; SQLite may hand them back without their zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def _open_alerts(session: Session, staff: Staff, ids: list[str]) -> dict[str, dict[Severity, int]]:
    """Open alerts of the page's patients by severity, counted in the database. The patients on
    the page are in the staff member's caseload, so every alert of theirs is visible to them
    (``lifecycle.visible_to``)."""
    if not ids:
        return {}
    rows = session.execute(
        sa_select(col(Alert.patient_id), col(Alert.severity), func.count())
        .where(
            col(Alert.clinic_id) == staff.clinic_id,
            col(Alert.patient_id).in_(ids),
            col(Alert.status) != AlertStatus.RESOLVED,
        )
        .group_by(col(Alert.patient_id), col(Alert.severity))
    ).all()
    found: dict[str, dict[Severity, int]] = {}
    for patient_id, severity, count in rows:
        found.setdefault(patient_id, {})[Severity(severity)] = int(count)
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


_NEVER: datetime = datetime.min.replace(tzinfo=utcnow().tzinfo)
_STATUS_ORDER: dict[str, int] = {s: i for i, s in enumerate(PatientStatus)}
_FAR_FUTURE: datetime = datetime.max.replace(tzinfo=utcnow().tzinfo)


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
