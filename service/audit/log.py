from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from service.kit.context import Actor, current_request_id
from service.models import AuditEvent
from service.models.base import utcnow


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity: Any = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    patient_id: str | None = None,
    clinic_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit row to the caller's transaction. ``detail`` holds ids and facts, never client text."""
    if entity is not None:
        entity_type = entity_type or entity.__tablename__
        entity_id = entity_id or str(entity.id)
        patient_id = patient_id or _patient_of(entity)
        clinic_id = clinic_id or getattr(entity, "clinic_id", None)
    event = AuditEvent(
        at=utcnow(),
        actor_type=actor.kind,
        actor_id=actor.id,
        clinic_id=clinic_id or actor.clinic_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        patient_id=patient_id,
        request_id=current_request_id.get(),
        detail=detail or {},
    )
    # No lock and no read of the chain: the row is sealed later, so writers never wait on each other.
    # No flush either: the rows of one transaction go to the database together, in one INSERT.
    session.add(event)
    return event


def record_reads(
    session: Session,
    *,
    actor: Actor,
    action: str,
    patient_ids: Iterable[str],
    clinic_id: str | None = None,
    entity_type: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """One audit row per patient whose data a list page showed (the caseload, the alert queue).

    The rows go to the database in one multi-row INSERT, so a page listing a whole clinic does not
    pay a statement per patient. Returns the rows written.
    """
    wanted = list(dict.fromkeys(patient_ids))
    if not wanted:
        return 0
    request_id = current_request_id.get()
    at = utcnow()
    session.add_all(
        AuditEvent(
            at=at,
            actor_type=actor.kind,
            actor_id=actor.id,
            clinic_id=clinic_id or actor.clinic_id,
            action=action,
            entity_type=entity_type or "patient",
            entity_id=patient_id,
            patient_id=patient_id,
            request_id=request_id,
            detail=detail or {},
        )
        for patient_id in wanted
    )
    session.flush()
    return len(wanted)


def _patient_of(entity: Any) -> str | None:
    if entity.__tablename__ == "patient":
        return str(entity.id)
    value = getattr(entity, "patient_id", None)
    return str(value) if value is not None else None
