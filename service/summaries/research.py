"""A clinic's check-ins and questionnaire scores as CSV, for research and clinical audit (admins only).

Pseudonymous by construction:
- each patient appears under a keyed pseudonym, stable across exports (so a person's course can be
  followed) but impossible to turn back into an id or a name without the server's secret key;
- no names, emails or clinician identities;
- no free text: check-in notes are written by clients about their lives and name people, places and
  events. They cannot be pseudonymised reliably, and research and audit need the measures, not the
  words (GDPR art. 5(1)(c) data minimisation, art. 89 safeguards for research).
Tags are kept: they are codes from a fixed list, not free text.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from service import audit
from service.crypto import derive_key
from service.db import unit_of_work
from service.errors import Forbidden, Invalid
from service.kit.context import Actor
from service.models import CheckIn, Clinic, MeasureResponse, Patient, Role, Staff
from service.models.base import utcnow
from service.summaries.service import SummaryFile

COLUMNS = (
    "patient",
    "record",
    "local_date",
    "local_time",
    "mood",
    "anxiety",
    "sleep_hours",
    "energy",
    "tags",
    "instrument",
    "total",
    "severity",
    "risk_level",
)


def pseudonym(clinic_id: str, patient_id: str) -> str:
    key = derive_key("research-pseudonym")
    return "P-" + hmac.new(key, f"{clinic_id}:{patient_id}".encode(), hashlib.sha256).hexdigest()[:16]


def clinic_csv(session: Session, staff: Staff, *, start: date | None = None, end: date | None = None) -> SummaryFile:
    """Every check-in and questionnaire score of the admin's clinic between `start` and `end` (inclusive)."""
    if not staff.active or staff.role != Role.ADMIN:
        raise Forbidden("only a clinic administrator can export the clinic's data")
    if start is not None and end is not None and start > end:
        raise Invalid("the start of the date range must be on or before its end")
    clinic = session.get(Clinic, staff.clinic_id)
    assert clinic is not None  # foreign key
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    checkins = _checkins(session, clinic, start, end, writer)
    responses = _responses(session, clinic, start, end, writer)
    content = buffer.getvalue().encode()
    with unit_of_work(session):
        audit.record(
            session,
            actor=Actor.staff(staff),
            action="export.csv",
            entity_type="clinic",
            entity_id=clinic.id,
            detail={
                "checkins": checkins,
                "measure_responses": responses,
                "start": start.isoformat() if start else None,
                "end": end.isoformat() if end else None,
            },
        )
    today = utcnow().astimezone(ZoneInfo(clinic.timezone)).date()
    return SummaryFile(f"tandem-checkins-and-scores-{today.isoformat()}.csv", content, "text/csv; charset=utf-8")


def _checkins(session: Session, clinic: Clinic, start: date | None, end: date | None, writer: Any) -> int:
    values = (CheckIn.mood, CheckIn.anxiety, CheckIn.sleep_hours, CheckIn.energy, CheckIn.tags, CheckIn.risk_level)

    def row(mood: Any, anxiety: Any, sleep: Any, energy: Any, tags: Any, risk: str) -> dict[str, object]:
        return {
            "record": "checkin",
            "mood": mood,
            "anxiety": _blank(anxiety),
            "sleep_hours": _blank(sleep),
            "energy": _blank(energy),
            "tags": ";".join(tags or []),
            "risk_level": risk,
        }

    return _write_rows(session, clinic, start, end, writer, CheckIn, CheckIn.recorded_at, values, row)


def _responses(session: Session, clinic: Clinic, start: date | None, end: date | None, writer: Any) -> int:
    response = MeasureResponse
    values = (response.instrument, response.total, response.severity, response.risk_level)

    def row(instrument: str, total: Any, severity: str, risk: str) -> dict[str, object]:
        return {
            "record": "measure_response",
            "instrument": instrument,
            "total": _blank(total),
            "severity": severity,
            "risk_level": risk,
        }

    return _write_rows(session, clinic, start, end, writer, response, response.completed_at, values, row)


def _write_rows(
    session: Session,
    clinic: Clinic,
    start: date | None,
    end: date | None,
    writer: Any,
    model: Any,
    moment: Any,
    values: tuple[Any, ...],
    row: Callable[..., dict[str, object]],
) -> int:
    """One CSV row per record of `model` in the clinic between `start` and `end` (local dates), in
    patient then time order: the pseudonym, the local date and time, and `row`'s columns (others blank)."""
    query = (
        sa_select(col(Patient.id), col(model.local_date), col(moment), col(Patient.timezone), *map(col, values))
        .join(Patient, col(Patient.id) == col(model.patient_id))
        .where(col(Patient.clinic_id) == clinic.id)
        .order_by(col(Patient.id), col(moment))
    )
    if start is not None:
        query = query.where(col(model.local_date) >= start)
    if end is not None:
        query = query.where(col(model.local_date) <= end)
    count = 0
    for patient_id, day, at, zone, *fields in session.execute(query):
        cells: dict[str, object] = {
            "patient": pseudonym(clinic.id, patient_id),
            "local_date": day.isoformat(),
            "local_time": _local_time(at, zone),
            **row(*fields),
        }
        writer.writerow([cells.get(column, "") for column in COLUMNS])
        count += 1
    return count


def _local_time(moment: datetime, zone: str) -> str:
    # The hour of the day matters to research (night-time check-ins); the exact second does not.
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def _blank(value: object) -> object:
    return "" if value is None else value
