"""A patient's record as a staff member reads it: everything the patient page shows, in one call.

The profile, the invitation, the alerts, the check-ins, the questionnaires, the exercises and the
stored summaries are read in one transaction, after one check that the staff member may see the
patient, and the read is audited once (``patient.view``) with how much of each was shown: counts
and ids, never the patient's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from service import audit
from service.alerts import review as alert_review
from service.alerts.review import AlertRow
from service.caseload.service import InvitationStatus, assignable_clinicians, invitation_states
from service.checkins import review as checkin_review
from service.checkins.review import CheckinReview
from service.db import unit_of_work
from service.exercises import assignments
from service.exercises import review as exercise_review
from service.exercises.schemas import Adherence, CoachNote, SessionSummary, StaffAssignmentOut
from service.kit.context import Actor
from service.measures import review as measure_review
from service.measures.review import MeasureReview
from service.models import Patient, PatientContact, PatientSummary, Role, Staff
from service.onboarding import contacts
from service.onboarding.patients import get_for_staff

STORED_SUMMARIES = 20


@dataclass(frozen=True)
class StoredSummary:
    """What the portal lists about a stored summary, read without decrypting the PDF."""

    id: str
    reason: str
    appointment_at: datetime | None
    period_start: date
    period_end: date
    created_at: datetime
    pdf_size: int


@dataclass(frozen=True)
class PatientRecord:
    patient: Patient
    clinician: Staff
    invitation: InvitationStatus
    assignable_clinicians: list[Staff]
    """The clinic's active staff the patient may be reassigned to: for administrators only."""
    alerts: list[AlertRow]
    checkins: CheckinReview
    questionnaires: MeasureReview
    assignments: list[StaffAssignmentOut]
    sessions: list[SessionSummary]
    coach_notes: list[CoachNote]
    adherence: Adherence | None
    summaries: list[StoredSummary]
    contact: PatientContact | None = None


def patient_record(session: Session, *, staff: Staff, patient_id: str) -> PatientRecord:
    """Everything a staff member who may see the patient reads on their page; one audit row."""
    with unit_of_work(session):
        patient = get_for_staff(session, staff=staff, patient_id=patient_id)
        clinician = session.get(Staff, patient.clinician_id)
        assert clinician is not None  # foreign key
        listed = assignments.staff_views(session, patient=patient)
        record = PatientRecord(
            patient=patient,
            clinician=clinician,
            invitation=invitation_states(session, patient_ids=[patient.id])[patient.id],
            assignable_clinicians=assignable_clinicians(session, staff=staff) if staff.role == Role.ADMIN else [],
            alerts=alert_review.patient_rows(session, staff=staff, patient=patient),
            checkins=checkin_review.read(session, patient=patient),
            questionnaires=measure_review.read(session, patient=patient),
            assignments=listed,
            sessions=exercise_review.summaries_of(session, patient=patient),
            coach_notes=exercise_review.coach_notes_of(session, patient=patient),
            adherence=assignments.adherence(session, patient) if listed else None,
            summaries=stored_summaries(session, patient=patient),
            contact=contacts.contact_of(session, patient_id=patient.id),
        )
        audit.record(session, actor=Actor.staff(staff), action="patient.view", entity=patient, detail=_shown(record))
    return record


def _shown(record: PatientRecord) -> dict[str, int]:
    """How much of each kind of data the page showed; only the kinds it showed any of."""
    counts = {
        "alerts": len(record.alerts),
        "notes": len(record.checkins.recent),
        "responses": len(record.questionnaires.responses),
        "assignments": len(record.assignments),
        "sessions": len(record.sessions),
        "coach_notes": len(record.coach_notes),
        "summaries": len(record.summaries),
    }
    return {kind: count for kind, count in counts.items() if count}


def stored_summaries(session: Session, *, patient: Patient, limit: int = STORED_SUMMARIES) -> list[StoredSummary]:
    """The patient's stored summaries, newest first. The caller has already checked who may see them."""
    columns = [
        col(PatientSummary.id),
        col(PatientSummary.reason),
        col(PatientSummary.appointment_at),
        col(PatientSummary.period_start),
        col(PatientSummary.period_end),
        col(PatientSummary.created_at),
        col(PatientSummary.pdf_size),
    ]
    rows = session.execute(
        sa_select(*columns)
        .where(col(PatientSummary.patient_id) == patient.id)
        .order_by(col(PatientSummary.created_at).desc())
        .limit(limit)
    ).all()
    return [StoredSummary(*row) for row in rows]
