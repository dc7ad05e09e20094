"""What staff read and write of a client's safety plan in the portal: the plan, its versions with
who wrote each, and the clinician's edits made with the client. Every read and write is audited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from service import audit
from service.db import unit_of_work
from service.kit.context import Actor
from service.models import Patient, Staff
from service.onboarding.patients import get_for_staff
from service.safety_plan import service
from service.safety_plan.service import Plan


@dataclass(frozen=True)
class VersionEntry:
    plan: Plan
    author_name: str
    """The staff member's name, or the patient's when they wrote it in the app."""


@dataclass(frozen=True)
class StaffView:
    patient: Patient
    plan: Plan
    history: list[VersionEntry]


def for_staff(session: Session, *, staff: Staff, patient_id: str) -> StaffView:
    """The plan of a patient this staff member may see, with every version. Audited."""
    with unit_of_work(session):
        patient = get_for_staff(session, staff=staff, patient_id=patient_id)
        versions = service.versions(session, patient_id=patient.id)
        names = _names(session, patient, versions)
        audit.record(
            session,
            actor=Actor.staff(staff),
            action="safety_plan.view",
            entity_type="safety_plan",
            entity_id=patient.id,
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
        )
    plan = versions[0] if versions else service.EMPTY
    history = [VersionEntry(plan=v, author_name=names.get(v.author_id or "", "")) for v in versions]
    return StaffView(patient=patient, plan=plan, history=history)


def write_for_staff(
    session: Session, *, staff: Staff, patient_id: str, sections: Iterable[tuple[str, Iterable[str]]]
) -> bool:
    """The clinician saves the plan written with the client; True when something changed."""
    cleaned = service.clean_sections(sections)
    with unit_of_work(session):
        patient = get_for_staff(session, staff=staff, patient_id=patient_id)
        _, changed = service.save(session, patient=patient, actor=Actor.staff(staff), sections=cleaned)
    return changed


def _names(session: Session, patient: Patient, versions: list[Plan]) -> dict[str, str]:
    staff_ids = {v.author_id for v in versions if v.author_type == "staff" and v.author_id}
    names = {patient.id: patient.display_name}
    if staff_ids:
        names.update({s.id: s.name for s in session.exec(select(Staff).where(col(Staff.id).in_(staff_ids))).all()})
    return names
