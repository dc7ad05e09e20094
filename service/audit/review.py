"""What a clinic administrator sees of the audit log's integrity: whether the chain verifies, its head,
the key ring by id, and the latest signed checkpoints (when each was signed), each compared with the
table. The chain is the whole service's, but the figures shown are the clinic's own rows: one
clinic's administrator does not learn how busy the other clinics are (the service-wide figures are
the operator's, with ``tandem audit verify``).

Each checkpoint is checked for what it can tell cheaply: is it genuine (signed by the key it names,
held by the ring), and does the table still hold, at the checkpoint's place, the row with the head
hash it recorded. A deleted tail, a truncated table or an older copy put back shows here as rows
missing or a hash that differs. Recomputing every row's HMAC is ``tandem audit verify``'s work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from service.audit.chain import TABLE, Head, head
from service.audit.checkpoints import LOG_PREFIX, Checkpoint, checkpoint_path, sinks
from service.audit.keys import AuditKeyRing, audit_key_ring
from service.audit.log import record
from service.config import get_settings
from service.db import unit_of_work
from service.errors import Forbidden
from service.kit.context import Actor
from service.models import Role, Staff

SHOWN = 30
_TAIL_BLOCK = 64 * 1024


class CheckpointState(StrEnum):
    MATCHES = "matches"  # genuine, and the table holds that head at that place
    ROWS_MISSING = "rows_missing"  # genuine, but the table no longer reaches that place
    DIFFERS = "differs"  # genuine, but the row at that place has another hash: rewritten
    UNKNOWN_KEY = "unknown_key"  # signed with a key the ring does not hold
    BAD_SIGNATURE = "bad_signature"  # names a key of the ring, but the signature does not verify
    UNREADABLE = "unreadable"

    @property
    def good(self) -> bool:
        return self is CheckpointState.MATCHES


@dataclass(frozen=True)
class CheckpointRow:
    checkpoint: Checkpoint | None
    state: CheckpointState
    key_retired: bool = False


@dataclass(frozen=True)
class ChainStatus:
    head: Head
    sealed: int  # the clinic's own rows sealed into the chain
    unsealed: int  # the clinic's own rows waiting to be sealed
    last_at: datetime | None  # when the clinic's latest row was written
    current_key: str
    retired_keys: list[str]
    file_sink: bool  # checkpoints are written to a file this page can read
    checkpoints: list[CheckpointRow]  # newest first

    @property
    def all_good(self) -> bool:
        return all(row.state.good for row in self.checkpoints)

    @property
    def latest_at(self) -> datetime | None:
        """When the newest readable checkpoint was signed."""
        return next((row.checkpoint.at for row in self.checkpoints if row.checkpoint is not None), None)

    @property
    def problems(self) -> int:
        return sum(not row.state.good for row in self.checkpoints)


def chain_status(session: Session, *, staff: Staff, shown: int = SHOWN) -> ChainStatus:
    """The audit chain's state and its latest checkpoints; administrators only. The look is audited."""
    if not staff.active or staff.role != Role.ADMIN:
        raise Forbidden("only a clinic administrator can read the audit log")
    settings = get_settings()
    ring = audit_key_ring(settings)
    file_sink = "file" in sinks(settings)
    latest = tail_checkpoints(checkpoint_path(settings), shown) if file_sink else []
    with unit_of_work(session):
        current = head(session)
        own = TABLE.c.clinic_id == staff.clinic_id
        sealed = session.execute(select(func.count()).where(own, TABLE.c.seq.is_not(None))).scalar() or 0
        unsealed = session.execute(select(func.count()).where(own, TABLE.c.seq.is_(None))).scalar() or 0
        last_at = session.execute(select(func.max(TABLE.c.at)).where(own)).scalar()
        places = {c.seq for c in latest if c is not None}
        hashes: dict[int, str] = {}
        if places:
            found = session.execute(select(TABLE.c.seq, TABLE.c.hash).where(TABLE.c.seq.in_(places)))
            hashes = {seq: digest for seq, digest in found}
        rows = [_judge(c, ring, hashes, current.seq) for c in reversed(latest)]
        record(
            session,
            actor=Actor.staff(staff),
            action="audit.checkpoints",
            entity_type="audit_chain",
            detail={"checkpoints": len(rows), "problems": sum(not r.state.good for r in rows)},
        )
    return ChainStatus(
        head=current,
        sealed=sealed,
        unsealed=unsealed,
        last_at=last_at,
        current_key=ring.current.key_id,
        retired_keys=[k.key_id for k in ring.retired],
        file_sink=file_sink,
        checkpoints=rows,
    )


def _judge(checkpoint: Checkpoint | None, ring: AuditKeyRing, hashes: dict[int, str], head_seq: int) -> CheckpointRow:
    if checkpoint is None:
        return CheckpointRow(None, CheckpointState.UNREADABLE)
    rank = ring.rank(checkpoint.key_id)
    if rank is None:
        return CheckpointRow(checkpoint, CheckpointState.UNKNOWN_KEY)
    retired = rank < len(ring.all) - 1
    if not checkpoint.signed_by(ring):
        return CheckpointRow(checkpoint, CheckpointState.BAD_SIGNATURE, retired)
    found = hashes.get(checkpoint.seq)
    if found is None:
        return CheckpointRow(checkpoint, CheckpointState.ROWS_MISSING, retired)
    if found != checkpoint.head:
        return CheckpointRow(checkpoint, CheckpointState.DIFFERS, retired)
    return CheckpointRow(checkpoint, CheckpointState.MATCHES, retired)


def tail_checkpoints(path: Path, count: int) -> list[Checkpoint | None]:
    """The last ``count`` checkpoints of a sink file, oldest first (None for a line that cannot be
    read), reading from the end: the file grows by a line a minute for as long as the service runs."""
    if count <= 0 or not path.exists():
        return []
    lines: list[bytes] = []
    with path.open("rb") as source:
        end = source.seek(0, 2)
        position, rest = end, b""
        while position > 0 and len(lines) <= count:
            step = min(_TAIL_BLOCK, position)
            position -= step
            source.seek(position)
            chunk = source.read(step) + rest
            parts = chunk.split(b"\n")
            rest = parts[0]  # may be a partial line: completed by the next block read
            lines = [p for p in parts[1:] if p.strip()] + lines
        if position == 0 and rest.strip():
            lines = [rest, *lines]
    found: list[Checkpoint | None] = []
    for raw in lines:
        line = raw.decode("utf-8", errors="replace")
        start = line.find("{")
        if start < 0 or ('"sig"' not in line and LOG_PREFIX not in line):
            continue
        try:
            found.append(Checkpoint.from_json(json.loads(line[start:])))
        except (ValueError, KeyError, TypeError):
            found.append(None)
    return found[-count:]
