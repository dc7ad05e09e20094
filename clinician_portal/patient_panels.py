"""The sections of a patient's page that show their care: alerts, check-ins and questionnaires.

Each loader shapes part of the patient's record (``caseload.patient_record``: read once, checked
and audited once for the whole page); the charts are drawn here (``charts``), their words in the
templates.
"""

from __future__ import annotations

from typing import Any

from clinician_portal import charts
from clinician_portal.messages import N_
from clinician_portal.panels import PATIENT_PANELS, PatientPanel, register_patient_panel
from service.caseload import PatientRecord
from service.checkins.schemas import TrendPoint
from service.checkins.tags import all_tags
from service.exercises import assignments, catalog
from service.kit.i18n import SUPPORTED_LOCALES
from service.measures import review as measure_review
from service.measures.instruments import get_instrument
from service.models import PatientStatus
from service.models.base import utcnow

SLEEP_AXIS_HOURS = 12
# Charts start at the first check-in of the period (a new patient's chart is not mostly empty),
# but always show at least this many days.
MIN_CHART_DAYS = 14
RECENT_SHOWN = 10  # check-ins listed before "show earlier check-ins"


def alerts_panel(record: PatientRecord) -> dict[str, Any]:
    return {"rows": record.alerts, "now": utcnow()}


def checkins_panel(record: PatientRecord) -> dict[str, Any]:
    found = record.checkins
    metrics = _from_first_checkin(found.trend.metrics)
    return {
        "review": found,
        "days": len(metrics["mood"]),
        "shown_first": RECENT_SHOWN,
        "charts": {
            "mood": charts.daily_chart(metrics["mood"], high=10, step=2),
            "anxiety": charts.daily_chart(metrics["anxiety"], high=10, step=2),
            "sleep_hours": charts.daily_chart(metrics["sleep_hours"], high=SLEEP_AXIS_HOURS, step=2),
        },
        "series": metrics,
        "tags": {tag.code: tag.labels for tag in all_tags()},
    }


def exercises_panel(record: PatientRecord) -> dict[str, Any]:
    return {
        "assignments": record.assignments,
        "sessions": record.sessions,
        "coach_notes": record.coach_notes,
        "adherence": record.adherence,
        "exercises": catalog.load_catalog(),
        "choices": {lang: catalog.list_exercises(lang) for lang in SUPPORTED_LOCALES},
        "max_every_days": assignments.MAX_EVERY_DAYS,
        "can_assign": record.patient.status != PatientStatus.DISCHARGED,
    }


def _from_first_checkin(metrics: dict[str, list[TrendPoint]]) -> dict[str, list[TrendPoint]]:
    days = len(metrics["mood"])
    first = next((i for i, point in enumerate(metrics["mood"]) if point.value is not None), days)
    start = max(0, min(first, days - MIN_CHART_DAYS))
    return {metric: points[start:] for metric, points in metrics.items()}


def questionnaires_panel(record: PatientRecord) -> dict[str, Any]:
    found = record.questionnaires
    instruments = {code: get_instrument(code) for code in measure_review.CHARTED}
    return {
        "review": found,
        "progress": found.progress,
        "instruments": instruments,
        "charts": {
            code: charts.score_chart(found.totals[code], bands=instruments[code].severity_bands)
            for code in measure_review.CHARTED
        },
    }


PANELS = (
    PatientPanel("alerts", "panels/alerts.html", alerts_panel, order=10, title=N_("Alerts")),
    PatientPanel("checkins", "panels/checkins.html", checkins_panel, order=20, title=N_("Check-ins")),
    PatientPanel(
        "questionnaires", "panels/questionnaires.html", questionnaires_panel, order=30, title=N_("Questionnaires")
    ),
    PatientPanel("exercises", "panels/exercises.html", exercises_panel, order=40, title=N_("Exercises")),
)


def register() -> None:
    """Add these panels to the patient page (once, however many portal apps a process creates)."""
    for panel in PANELS:
        if not any(existing.key == panel.key for existing in PATIENT_PANELS):
            register_patient_panel(panel)
