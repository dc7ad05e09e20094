"""A patient's episode of care: contact details, discharge (with its reason) and re-activation.

Discharge ends the exercises assigned, stops questionnaire schedules and reminders, and tells the
client in their language. A discharged client can still sign in to read and export their data;
the API refuses new check-ins, questionnaires and coach messages with a 403 that says why
(no one would read them). Re-activation opens care again; new exercises are assigned afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select, update

from service import alerts, audit, notify
from service.db import unit_of_work
from service.errors import Conflict, Forbidden, Invalid
from service.exercises import assignments
from service.kit.context import Actor
from service.kit.i18n import gettext
from service.models import (
    DISCHARGE_REASONS,
    Alert,
    AlertStatus,
    Assignment,
    AssignmentStatus,
    Clinic,
    MeasureSchedule,
    Patient,
    PatientContact,
    PatientStatus,
    Staff,
)
from service.models.base import utcnow
from service.onboarding import contacts
from service.onboarding.contacts import ContactDetails
from service.onboarding.patients import get_for_staff

CARE_NOT_ENDED = "your care has not ended: sign in to use Tandem"


@dataclass(frozen=True)
class AfterCare:
    """What a client whose care has ended is told: by whom, since when, and where help is."""

    clinic: str
    ended_at: datetime
    help: dict[str, Any]  # crisis lines of their country, in their language, and the clinic's instructions


def after_care(session: Session, *, patient: Patient) -> AfterCare:
    """For a discharged client (who proved who they are): their clinic's name, when care ended, and
    the crisis lines and the clinic's own instructions, as the app shows them to an active client."""
    if patient.status != PatientStatus.DISCHARGED or patient.discharged_at is None or patient.erased_at:
        raise Conflict(CARE_NOT_ENDED)
    clinic = session.get(Clinic, patient.clinic_id)
    assert clinic is not None  # foreign key
    return AfterCare(clinic.name, patient.discharged_at, alerts.crisis_resources_for(session, patient=patient))


def save_contact(session: Session, *, staff: Staff, patient_id: str, details: ContactDetails) -> PatientContact:
    with unit_of_work(session):
        patient = get_for_staff(session, staff=staff, patient_id=patient_id)
        if patient.status == PatientStatus.DISCHARGED and patient.erased_at is not None:
            raise Conflict("this patient's data was erased")
        return contacts.save_contact(session, staff=staff, patient=patient, details=details)


def discharge(session: Session, *, staff: Staff, patient_id: str, reason: str) -> Patient:
    """End the patient's care. Refused while an alert is unresolved: a risk signal must be closed by
    a person before the care that would answer it ends."""
    if reason not in DISCHARGE_REASONS:
        raise Invalid("choose the reason for the discharge")
    now = utcnow()
    with unit_of_work(session):
        patient = get_for_staff(session, staff=staff, patient_id=patient_id)
        if patient.status == PatientStatus.DISCHARGED:
            raise Conflict("this patient is already discharged")
        if _any_open_alert(session, patient.id):
            raise Conflict("resolve this patient's open alerts before discharging them")
        actor = Actor.staff(staff)
        for assignment in session.exec(
            select(Assignment).where(Assignment.patient_id == patient.id, Assignment.status != AssignmentStatus.ENDED)
        ).all():
            assignments.end_assignment(session, staff=staff, assignment_id=assignment.id, actor=actor, now=now)
        session.execute(
            update(MeasureSchedule)
            .where(col(MeasureSchedule.patient_id) == patient.id, col(MeasureSchedule.active).is_(True))
            .values(active=False, updated_at=now)
        )
        previous = str(patient.status)
        patient.status = PatientStatus.DISCHARGED
        patient.discharged_at = now
        patient.discharge_reason = reason
        session.add(patient)
        audit.record(
            session,
            actor=actor,
            action="patient.discharge",
            entity=patient,
            detail={"reason": reason, "from": previous},
        )
        _tell_client(session, patient, kind="discharge")
    return patient


def _any_open_alert(session: Session, patient_id: str) -> bool:
    # Every unresolved alert blocks, including one escalated to someone else.
    found = session.exec(
        select(Alert.id).where(Alert.patient_id == patient_id, col(Alert.status) != AlertStatus.RESOLVED)
    ).first()
    return found is not None


def reactivate(session: Session, *, staff: Staff, patient_id: str) -> Patient:
    """Open care again for a discharged patient (not for one whose data was erased)."""
    with unit_of_work(session):
        patient = get_for_staff(session, staff=staff, patient_id=patient_id)
        if patient.status != PatientStatus.DISCHARGED:
            raise Conflict("this patient is not discharged")
        if patient.erased_at is not None or patient.erasure_requested_at is not None:
            raise Forbidden("this patient asked for their data to be erased; care cannot be re-opened here")
        patient.status = PatientStatus.ACTIVE if patient.activated_at else PatientStatus.INVITED
        patient.discharged_at = None
        patient.discharge_reason = None
        session.add(patient)
        audit.record(session, actor=Actor.staff(staff), action="patient.reactivate", entity=patient)
        _tell_client(session, patient, kind="reactivate")
    return patient


def _tell_client(session: Session, patient: Patient, *, kind: str) -> None:
    """An email in the client's language (no clinical content: that their care ended or resumed)."""
    if not patient.email or patient.activated_at is None:
        return
    clinic = session.get(Clinic, patient.clinic_id)
    assert clinic is not None  # foreign key
    if kind == "discharge":
        subject = gettext(patient.locale, "[Tandem] Your care with %(clinic)s has ended", clinic=clinic.name)
        text = gettext(
            patient.locale,
            "Your care team at %(clinic)s has ended your care in Tandem. Check-ins, questionnaires and "
            "exercises are closed and reminders stop; nobody reads new entries any more.\n\nYou can still "
            "download all of your data with your email and password.\n\nIf you "
            "need help now, call your local emergency number or a crisis line.",
            clinic=clinic.name,
        )
    else:
        subject = gettext(patient.locale, "[Tandem] Your care with %(clinic)s has resumed", clinic=clinic.name)
        text = gettext(
            patient.locale,
            "Your care team at %(clinic)s has opened your care in Tandem again. You can sign in and check "
            "in as before; your clinician will assign exercises again.",
            clinic=clinic.name,
        )
    notify.enqueue_email(
        session,
        to=patient.email,
        subject=subject,
        text=text,
        dedup_key=f"care-{kind}:{patient.id}:{utcnow().isoformat()}",
        clinic_id=patient.clinic_id,
    )
