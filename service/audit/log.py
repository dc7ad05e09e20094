from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from service.kit.context import Actor, current_request_id
from service.models import AuditEvent
from service.models.base import utcnow

GENESIS = "0" * 64
# Any constant: the transaction-scoped advisory lock that orders audit rows on PostgreSQL.
_CHAIN_LOCK = 0x7A4D_0A0D


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
        prev_hash=GENESIS,
        hash=GENESIS,
    )
    event.prev_hash = _last_hash(session)
    event.hash = _digest(event)
    session.add(event)
    session.flush()
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

    Like ``record`` row by row, but the chain's tail is looked up (and locked) once for the batch,
    so a page listing a whole clinic does not pay two queries per patient. Returns the rows written.
    """
    wanted = list(dict.fromkeys(patient_ids))
    if not wanted:
        return 0
    previous = _last_hash(session)
    request_id = current_request_id.get()
    for patient_id in wanted:
        event = AuditEvent(
            at=utcnow(),
            actor_type=actor.kind,
            actor_id=actor.id,
            clinic_id=clinic_id or actor.clinic_id,
            action=action,
            entity_type=entity_type or "patient",
            entity_id=patient_id,
            patient_id=patient_id,
            request_id=request_id,
            detail=detail or {},
            prev_hash=previous,
            hash=GENESIS,
        )
        event.hash = previous = _digest(event)
        session.add(event)
        # One flush per row: the chain is verified in id order, so ids must follow the chain.
        session.flush()
    return len(wanted)


def _patient_of(entity: Any) -> str | None:
    if entity.__tablename__ == "patient":
        return str(entity.id)
    value = getattr(entity, "patient_id", None)
    return str(value) if value is not None else None


def _last_hash(session: Session) -> str:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    session.flush()
    last = session.exec(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()  # type: ignore[union-attr]
    return last or GENESIS


def _canonical(event: AuditEvent) -> bytes:
    fields = {
        "at": event.at.isoformat(),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "clinic_id": event.clinic_id,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "patient_id": event.patient_id,
        "request_id": event.request_id,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str).encode()


def _digest(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    rows: int
    first_broken_id: int | None = None


def verify_chain(session: Session, *, batch: int = 5000) -> ChainCheck:
    """Recompute every hash in order; report the first row whose content or link was altered."""
    prev = GENESIS
    rows = 0
    last_id = 0
    while True:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)  # type: ignore[operator, arg-type]
        ).all()
        if not events:
            return ChainCheck(True, rows)
        for event in events:
            if event.prev_hash != prev or _digest(event) != event.hash:
                return ChainCheck(False, rows, event.id)
            prev = event.hash
            rows += 1
            last_id = event.id or last_id
