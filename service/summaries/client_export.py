from __future__ import annotations

from typing import Any

from sqlmodel import Session

from service import audit
from service.checkins import service as checkins
from service.db import unit_of_work
from service.measures import service as measures
from service.models import Patient
from service.models.base import utcnow
from service.onboarding.profile import account_export
from service.security.actors import Actor


def export_patient(session: Session, patient: Patient, *, actor: Actor | None = None) -> dict[str, Any]:
    """Everything stored about one patient, decrypted, as JSON-ready data. The export is audited."""
    data: dict[str, Any] = {"format": "tandem-export/1", "exported_at": utcnow().isoformat()}
    data.update(account_export(session, patient))
    data["checkins"] = checkins.export_rows(session, patient)
    data["measure_responses"] = measures.export_rows(session, patient)
    with unit_of_work(session):
        audit.record(session, actor=actor or Actor.client(patient), action="patient.export", entity=patient)
    return data
