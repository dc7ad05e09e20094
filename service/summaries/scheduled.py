"""Summaries made ahead of each appointment, kept encrypted, and the clinician told by email.

`prepare_due` is run by the scheduler: it finds appointments starting within the configured window
(`TANDEM_SUMMARY_HOURS_BEFORE_APPOINTMENT`, 24 h by default) that have no summary yet, makes one per
appointment, and queues an email for the clinician that carries no client information, only a link
to the portal. Each patient commits on their own, so one failure never holds up the others.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service import notify
from service.config import get_settings
from service.db import unit_of_work
from service.kit.context import Actor
from service.models import Clinic, Patient, PatientStatus, PatientSummary, Staff
from service.models.base import utcnow
from service.summaries.service import generate_and_store
from service.summaries.texts import text

log = logging.getLogger(__name__)
SCHEDULER = Actor.system("summaries")
# Discharged and not-yet-activated patients have no sessions to prepare for.
_PREPARED_FOR = (PatientStatus.ACTIVE, PatientStatus.PAUSED)


def now() -> datetime:
    """The scheduler's clock (tests move it)."""
    return utcnow()


def due_appointments(session: Session, *, at: datetime, hours: int) -> list[tuple[str, datetime]]:
    """(patient id, appointment) for appointments in (at, at + hours] that have no summary yet."""
    summarised = select(PatientSummary.id).where(
        PatientSummary.patient_id == Patient.id, PatientSummary.appointment_at == Patient.next_appointment_at
    )
    rows = session.exec(
        select(Patient.id, Patient.next_appointment_at)
        .where(col(Patient.status).in_(_PREPARED_FOR))
        .where(col(Patient.next_appointment_at) > at, col(Patient.next_appointment_at) <= at + timedelta(hours=hours))
        .where(~summarised.exists())
        .order_by(col(Patient.next_appointment_at))
    ).all()
    return [(patient_id, appointment) for patient_id, appointment in rows if appointment is not None]


def prepare_due(session: Session, *, at: datetime | None = None) -> list[str]:
    """Make the summaries that are due; returns the ids of the summaries made."""
    at = at or now()
    made = []
    for patient_id, appointment in due_appointments(
        session, at=at, hours=get_settings().summary_hours_before_appointment
    ):
        try:
            summary_id = _prepare_one(session, patient_id, appointment, at)
        except IntegrityError:
            continue  # another scheduler made it first: nothing is lost
        except Exception:
            log.exception("summary for patient %s could not be made; retried at the next run", patient_id)
            continue
        if summary_id is not None:
            made.append(summary_id)
    return made


def _prepare_one(session: Session, patient_id: str, appointment: datetime, at: datetime) -> str | None:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.next_appointment_at != appointment:
        return None  # moved or cancelled since the query
    # The summary, its audit row and the email commit together: never a summary nobody is told about.
    with unit_of_work(session):
        row, _ = generate_and_store(
            session, patient=patient, reason="appointment", actor=SCHEDULER, appointment_at=appointment, now=at
        )
        _notify_clinician(session, row)
    return row.id


def _notify_clinician(session: Session, row: PatientSummary) -> None:
    """Queue the "summary ready" email: no name, no time, no score, only a link behind the portal sign-in."""
    clinician = session.get(Staff, row.clinician_id)
    clinic = session.get(Clinic, row.clinic_id)
    if clinician is None or clinic is None or not clinician.active:
        return
    link = f"{get_settings().base_url.rstrip('/')}/portal/summaries/{row.id}"
    notify.enqueue_email(
        session,
        to=clinician.email,
        subject=text("email.subject", clinic.locale),
        text=text("email.body", clinic.locale, link=link),
        dedup_key=f"summary-ready:{row.id}",
        clinic_id=clinic.id,
    )
