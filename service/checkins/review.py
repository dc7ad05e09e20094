"""A clinician reviewing a patient's check-ins: the trends of the period and the recent notes.

The caller (``caseload.patient_record``) has checked that the patient is visible to the staff
member, and audits the read (notes are the patient's own words) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.checkins.schemas import CheckinOut, TrendsOut
from service.checkins.service import MAX_TREND_DAYS, _out, trend
from service.errors import Invalid
from service.models import CheckIn, Patient

REVIEW_DAYS = 90
RECENT_CHECKINS = 30


@dataclass(frozen=True)
class CheckinReview:
    trend: TrendsOut
    recent: list[CheckinOut]
    """The latest check-ins, newest first, with their notes decrypted."""
    total: int
    """Every check-in the patient ever made."""


def read(session: Session, *, patient: Patient, days: int = REVIEW_DAYS, limit: int = RECENT_CHECKINS) -> CheckinReview:
    """The review of a patient the caller has already checked the staff member may see; the caller
    audits the read and owns the transaction."""
    if not 1 <= days <= MAX_TREND_DAYS or not 1 <= limit <= 200:
        raise Invalid(f"days must be from 1 to {MAX_TREND_DAYS}")
    rows = session.exec(
        select(CheckIn)
        .where(CheckIn.patient_id == patient.id)
        .order_by(col(CheckIn.recorded_at).desc(), col(CheckIn.id).desc())
        .limit(limit)
    ).all()
    total = session.exec(select(func.count()).select_from(CheckIn).where(CheckIn.patient_id == patient.id)).one()
    chart = trend(session, patient=patient, days=days)
    return CheckinReview(trend=chart, recent=[_out(row) for row in rows], total=total)
