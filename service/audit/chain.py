"""The chain: each sealed row's HMAC covers its content, its place and the previous row's hash.

Writers never touch the chain. One sealer at a time (the scheduler's leader every few seconds, or
`tandem audit seal`) gives the committed rows that are not sealed yet the next places, in id order.
A row whose transaction commits after later ids were sealed is not skipped: it is still unsealed,
so the next run seals it (its place then follows the rows sealed before it became visible).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

from service.audit.keys import AuditKeys, audit_keys
from service.models import AuditEvent

GENESIS = "0" * 64
# Any constant: held by the sealer for its transaction on PostgreSQL, never by a writer.
SEAL_LOCK = 0x7A4D_5EA1
BATCH = 1000

TABLE = AuditEvent.__table__  # type: ignore[attr-defined]
# Rows are read as plain rows, never as ORM objects a caller's session may hold stale copies of.
_SEAL = text("UPDATE audit_event SET seq = :seq, prev_hash = :prev_hash, hash = :hash WHERE id = :id")


def canonical(event: Any, *, seq: int, prev_hash: str) -> bytes:
    fields: dict[str, Any] = {
        "id": event.id,
        "seq": seq,
        "prev_hash": prev_hash,
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
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str).encode()


def mac(key: bytes, event: Any, *, seq: int, prev_hash: str) -> str:
    return hmac.new(key, canonical(event, seq=seq, prev_hash=prev_hash), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    event_id: int | None

    @property
    def empty(self) -> bool:
        return self.seq == 0


def head(session: Session) -> Head:
    row = session.execute(
        select(TABLE.c.seq, TABLE.c.hash, TABLE.c.id)
        .where(TABLE.c.seq.is_not(None))
        .order_by(TABLE.c.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return Head(0, GENESIS, None)
    return Head(row[0] or 0, row[1] or GENESIS, row[2])


@dataclass(frozen=True)
class SealReport:
    sealed: int
    head: Head
    busy: bool = False  # another sealer held the lock: nothing done this time


def seal(session: Session, *, keys: AuditKeys | None = None, batch: int = BATCH) -> SealReport:
    """Seal every committed row that is not sealed yet, oldest id first; one transaction per batch."""
    keys = keys or audit_keys()
    postgres = session.get_bind().dialect.name == "postgresql"
    sealed = 0
    while True:
        try:
            if (
                postgres
                and not session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SEAL_LOCK}).scalar()
            ):
                session.rollback()
                return SealReport(sealed, head(session), busy=True)
            current = head(session)
            pending = session.execute(
                select(*TABLE.c).where(TABLE.c.seq.is_(None)).order_by(TABLE.c.id).limit(batch)
            ).all()
            if not pending:
                session.rollback()
                return SealReport(sealed, current)
            seq, prev = current.seq, current.hash
            updates = []
            for event in pending:
                seq += 1
                digest = mac(keys.chain, event, seq=seq, prev_hash=prev)
                updates.append({"id": event.id, "seq": seq, "prev_hash": prev, "hash": digest})
                prev = digest
            session.execute(_SEAL, updates)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        sealed += len(pending)
        if len(pending) < batch:
            return SealReport(sealed, Head(seq, prev, pending[-1].id))
