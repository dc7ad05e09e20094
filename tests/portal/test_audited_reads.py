"""List pages audit one row per patient shown, in one batch that keeps the hash chain intact."""

from __future__ import annotations

from sqlmodel import Session, select

from service import audit
from service.db import unit_of_work
from service.kit.context import Actor
from service.models import AuditEvent
from tests.factories import ClinicSetup, invite_patient


def test_a_batch_of_reads_is_one_row_per_patient_and_the_chain_still_verifies(
    session: Session, clinic: ClinicSetup
) -> None:
    patients = [invite_patient(session, clinic, name=f"Patient {i}")[0] for i in range(5)]
    with unit_of_work(session):
        written = audit.record_reads(
            session,
            actor=Actor.staff(clinic.clinician),
            action="patient.list",
            patient_ids=[p.id for p in patients] + [patients[0].id],  # shown twice, read once
        )
        audit.record(session, actor=Actor.staff(clinic.clinician), action="patient.view", entity=patients[1])
    assert written == 5
    rows = session.exec(select(AuditEvent).where(AuditEvent.action == "patient.list")).all()
    assert [row.patient_id for row in rows] == [p.id for p in patients]
    assert all(row.actor_id == clinic.clinician.id and row.clinic_id == clinic.clinic.id for row in rows)
    assert audit.verify_chain(session).ok


def test_an_empty_list_writes_nothing(session: Session, clinic: ClinicSetup) -> None:
    before = len(session.exec(select(AuditEvent)).all())
    assert audit.record_reads(session, actor=Actor.staff(clinic.admin), action="patient.list", patient_ids=[]) == 0
    assert len(session.exec(select(AuditEvent)).all()) == before
