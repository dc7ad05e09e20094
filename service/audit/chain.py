"""The chain: each sealed row's HMAC covers its content, its place and the previous row's hash.

Writers never touch the chain. One sealer at a time (the scheduler's leader every few seconds, or
`tandem audit seal`) gives the committed rows that are not sealed yet the next places, in id order.
A row whose transaction commits after later ids were sealed is not skipped: it is still unsealed,
so the next run seals it (its place then follows the rows sealed before it became visible).

Each sealed row records the id of the key that sealed it (``service.audit.keys``). A sealer whose
current key is older than the one that sealed the head (a replica not restarted yet after a
rotation) seals nothing: keys only move forward along the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

from service.audit.keys import AuditKeyRing, AuditKeys, audit_key_ring, ring_of
from service.models import AuditEvent

log = logging.getLogger(__name__)
GENESIS = "0" * 64
# Any constant: held by the sealer for its transaction on PostgreSQL, never by a writer.
SEAL_LOCK = 0x7A4D_5EA1
BATCH = 1000

TABLE = AuditEvent.__table__  # type: ignore[attr-defined]
# Rows are read as plain rows, never as ORM objects a caller's session may hold stale copies of.
_SEAL = text("UPDATE audit_event SET seq = :seq, prev_hash = :prev_hash, hash = :hash, key_id = :key_id WHERE id = :id")


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
    key_id: str | None = None  # the key that sealed the head row (None: the first key, before ids)

    @property
    def empty(self) -> bool:
        return self.seq == 0


def head(session: Session) -> Head:
    row = session.execute(
        select(TABLE.c.seq, TABLE.c.hash, TABLE.c.id, TABLE.c.key_id)
        .where(TABLE.c.seq.is_not(None))
        .order_by(TABLE.c.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return Head(0, GENESIS, None)
    return Head(row[0] or 0, row[1] or GENESIS, row[2], row[3])


@dataclass(frozen=True)
class SealReport:
    sealed: int
    head: Head
    busy: bool = False  # another sealer held the lock: nothing done this time
    stale_key: bool = False  # the head was sealed with a key this process does not hold: nothing done


def seal(session: Session, *, keys: AuditKeys | AuditKeyRing | None = None, batch: int = BATCH) -> SealReport:
    """Seal every committed row that is not sealed yet, oldest id first; one transaction per batch."""
    ring = keys if isinstance(keys, AuditKeyRing) else ring_of(keys) if keys is not None else audit_key_ring()
    sealing = ring.current
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
            if current.key_id is not None and ring.rank(current.key_id) is None:
                session.rollback()
                log.warning(
                    "audit: the chain's head was sealed with key %s, which this process does not hold "
                    "(a newer audit key is in use: restart this replica with it); nothing sealed",
                    current.key_id,
                )
                return SealReport(sealed, current, stale_key=True)
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
                digest = mac(sealing.chain, event, seq=seq, prev_hash=prev)
                updates.append(
                    {"id": event.id, "seq": seq, "prev_hash": prev, "hash": digest, "key_id": sealing.key_id}
                )
                prev = digest
            session.execute(_SEAL, updates)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        sealed += len(pending)
        if len(pending) < batch:
            return SealReport(sealed, Head(seq, prev, pending[-1].id, sealing.key_id))
