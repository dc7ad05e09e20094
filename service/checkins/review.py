"""A clinician reviewing a patient's check-ins: the trends of the period and the recent notes.

Staff reads of check-ins go through here: the patient must be visible to the staff member, and
the read (notes are the patient's own words) is audited in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from service import audit
from service.checkins.schemas import CheckinOut, TrendsOut
from service.checkins.service import MAX_TREND_DAYS, _out, trend
from service.db import unit_of_work
from service.errors import Invalid
from service.kit.context import Actor
from service.models import CheckIn, Staff
from service.onboarding.patients import get_for_staff

REVIEW_DAYS = 90
RECENT_CHECKINS = 30


@dataclass(frozen=True)
class CheckinReview:
    trend: TrendsOut
    recent: list[CheckinOut]
    """The latest check-ins, newest first, with their notes decrypted."""
    total: int
    """Every check-in the patient ever made."""


def review(
    session: Session, staff: Staff, patient_id: str, *, days: int = REVIEW_DAYS, limit: int = RECENT_CHECKINS
) -> CheckinReview:
    if not 1 <= days <= MAX_TREND_DAYS or not 1 <= limit <= 200:
        raise Invalid(f"days must be from 1 to {MAX_TREND_DAYS}")
    with unit_of_work(session):
        patient = get_for_staff(session, staff, patient_id)
        rows = session.exec(
            select(CheckIn)
            .where(CheckIn.patient_id == patient.id)
            .order_by(col(CheckIn.recorded_at).desc(), col(CheckIn.id).desc())
            .limit(limit)
        ).all()
        total = session.exec(select(func.count()).select_from(CheckIn).where(CheckIn.patient_id == patient.id)).one()
        chart = trend(session, patient, days=days)
        if total:  # a patient who never checked in has nothing here to read
            audit.record(
                session,
                actor=Actor.staff(staff),
                action="checkin.view",
                entity=patient,
                detail={"days": days, "notes": len(rows)},
            )
    return CheckinReview(trend=chart, recent=[_out(row) for row in rows], total=total)
