"""Summaries for staff: made on demand, or made ahead and stored encrypted; every download is audited.

Which patients a staff member may see is decided by `onboarding.patients.get_for_staff`: another
clinician's patient is "not found", exactly as on the patient's page.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from service import audit
from service.db import unit_of_work
from service.errors import Invalid, NotFound
from service.kit.context import Actor
from service.kit.i18n import SUPPORTED_LOCALES
from service.models import Patient, PatientSummary, Staff
from service.models.base import utcnow
from service.onboarding.patients import get_for_staff
from service.summaries.content import SummaryView, build_summary
from service.summaries.pdf import render_pdf

PDF = "application/pdf"


@dataclass(frozen=True)
class SummaryFile:
    """A document ready to send: its bytes, media type and a file name that names no one."""

    filename: str
    content: bytes
    media_type: str


def check_lang(lang: str | None) -> str | None:
    if lang is not None and lang not in SUPPORTED_LOCALES:
        raise Invalid(f"lang must be one of {', '.join(SUPPORTED_LOCALES)}")
    return lang


def summary_filename(patient: Patient, period_end: date) -> str:
    # Downloads folders and mail attachments show file names: a date and a short id, never a name.
    return f"tandem-summary-{period_end.isoformat()}-{patient.id[:8]}.pdf"


# --- on demand ----------------------------------------------------------------------------------


def summary_for_staff(
    session: Session,
    *,
    staff: Staff,
    patient_id: str,
    days: int | None = None,
    lang: str | None = None,
    now: datetime | None = None,
) -> SummaryFile:
    """The summary of a patient this staff member may see, made now; the download is audited."""
    patient = get_for_staff(session, staff=staff, patient_id=patient_id)
    view = build_summary(session, patient, days=days, lang=check_lang(lang), now=now)
    pdf = render_pdf(view)
    with unit_of_work(session):
        audit.record(
            session,
            actor=Actor.staff(staff),
            action="summary.download",
            entity=patient,
            detail={**_describe(view), "stored": False, "bytes": len(pdf)},
        )
    return SummaryFile(summary_filename(patient, view.period.end), pdf, PDF)


def _describe(view: SummaryView) -> dict[str, object]:
    return {
        "period_start": view.period.start.isoformat(),
        "period_end": view.period.end.isoformat(),
        "basis": view.period.basis,
        "lang": view.lang,
    }


# --- made ahead and stored ----------------------------------------------------------------------


def generate_and_store(
    session: Session,
    *,
    patient: Patient,
    reason: str,
    actor: Actor,
    appointment_at: datetime | None = None,
    since: date | None = None,
    now: datetime | None = None,
) -> tuple[PatientSummary, bytes]:
    """Make a patient's summary and keep it, encrypted, for their clinician; audited as generated.

    The reads and the rendering happen before the write transaction opens, so a slow render never
    holds a database lock.
    """
    view = build_summary(session, patient, since=since, now=now)
    pdf = render_pdf(view)
    with unit_of_work(session):
        row = PatientSummary(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            clinician_id=patient.clinician_id,
            reason=reason,
            appointment_at=appointment_at,
            period_start=view.period.start,
            period_end=view.period.end,
            locale=view.lang,
            pdf=base64.b64encode(pdf).decode("ascii"),
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            pdf_size=len(pdf),
            created_at=now or utcnow(),
        )
        session.add(row)
        session.flush()
        audit.record(
            session, actor=actor, action="summary.generate", entity=row, detail={**_describe(view), "reason": reason}
        )
    return row, pdf


def stored_summary_for_staff(session: Session, *, staff: Staff, patient_id: str, summary_id: str) -> SummaryFile:
    """A stored summary of a patient this staff member may see, decrypted; the download is audited."""
    patient = get_for_staff(session, staff=staff, patient_id=patient_id)
    row = session.exec(
        select(PatientSummary).where(PatientSummary.id == summary_id, PatientSummary.patient_id == patient.id)
    ).first()
    if row is None:
        raise NotFound("no such summary")
    pdf = stored_pdf(row)
    with unit_of_work(session):
        audit.record(
            session,
            actor=Actor.staff(staff),
            action="summary.download",
            entity=row,
            detail={
                "period_start": row.period_start.isoformat(),
                "period_end": row.period_end.isoformat(),
                "stored": True,
                "bytes": len(pdf),
            },
        )
    return SummaryFile(summary_filename(patient, row.period_end), pdf, PDF)


def summary_owner(session: Session, *, staff: Staff, summary_id: str) -> str:
    """The patient a stored summary is about, if this staff member may see them (email links)."""
    patient_id = session.exec(select(PatientSummary.patient_id).where(PatientSummary.id == summary_id)).first()
    if patient_id is None:
        raise NotFound("no such summary")
    return get_for_staff(session, staff=staff, patient_id=patient_id).id


def stored_pdf(row: PatientSummary) -> bytes:
    """The PDF bytes of a stored summary, checked against the digest taken when it was made."""
    pdf = base64.b64decode(row.pdf)
    if hashlib.sha256(pdf).hexdigest() != row.pdf_sha256:
        raise RuntimeError(f"stored summary {row.id} does not match its digest")
    return pdf
