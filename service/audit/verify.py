"""Verifying the audit log: the chain row by row, then the signed checkpoints against the table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from service.audit.chain import GENESIS, TABLE, mac
from service.audit.checkpoints import Checkpoint, ReadCheckpoint, checkpoint_path, read_checkpoints
from service.audit.keys import AuditKeys, audit_keys
from service.config import get_settings

BATCH = 5000


@dataclass(frozen=True)
class Unsealed:
    count: int
    first_id: int | None = None
    last_id: int | None = None


@dataclass
class ChainCheck:
    """What `tandem audit verify` reports. ``ok`` is False on the first broken row, a missing
    range of places, or a checkpoint the table no longer matches (or that is not genuine)."""

    ok: bool = True
    rows: int = 0  # sealed rows checked
    first_broken_id: int | None = None
    first_broken_seq: int | None = None
    missing: tuple[int, int] | None = None  # places in the chain (seq) that are gone
    problems: list[str] = field(default_factory=list)
    head_seq: int = 0
    checkpoints: int = 0  # genuine checkpoints compared with the table
    unsealed: Unsealed = Unsealed(0)

    def fail(self, message: str) -> None:
        self.ok = False
        self.problems.append(message)


def verify_chain(
    session: Session,
    *,
    since: datetime | None = None,
    checkpoints: Path | None = None,
    keys: AuditKeys | None = None,
) -> ChainCheck:
    """Recompute every sealed row's HMAC in chain order (from ``since`` when given), then compare
    the checkpoints found in the sink file with the table."""
    keys = keys or audit_keys()
    path = checkpoints if checkpoints is not None else checkpoint_path(get_settings())
    found = read_checkpoints(path)
    check = ChainCheck()
    start_seq, prev = _anchor(session, since, check)
    wanted = {item.checkpoint.seq for item in found if item.checkpoint is not None}
    seen: dict[int, str] = {}
    if check.ok:
        _walk(session, keys, start_seq, prev, wanted, seen, check)
    _compare_checkpoints(found, keys, seen, start_seq, check)
    check.unsealed = _unsealed(session)
    session.rollback()
    return check


def _anchor(session: Session, since: datetime | None, check: ChainCheck) -> tuple[int, str]:
    """Where the walk starts: the first place sealed at or after ``since``, trusting the row before it."""
    if since is None:
        return 1, GENESIS
    first = session.execute(select(func.min(TABLE.c.seq)).where(TABLE.c.seq.is_not(None), TABLE.c.at >= since)).scalar()
    if first is None or first == 1:
        return (first or _after_head(session)), GENESIS
    before = session.execute(select(TABLE.c.hash).where(TABLE.c.seq == first - 1)).scalar()
    if before is None:
        check.missing = (first - 1, first - 1)
        check.fail(f"row {first - 1} of the chain is missing (just before {since.isoformat()})")
        return first, GENESIS
    return first, before


def _after_head(session: Session) -> int:
    return (session.execute(select(func.max(TABLE.c.seq))).scalar() or 0) + 1


def _walk(
    session: Session, keys: AuditKeys, seq: int, prev: str, wanted: set[int], seen: dict[int, str], check: ChainCheck
) -> None:
    while True:
        rows = session.execute(select(*TABLE.c).where(TABLE.c.seq >= seq).order_by(TABLE.c.seq).limit(BATCH)).all()
        if not rows:
            check.head_seq = seq - 1
            return
        for row in rows:
            if row.seq != seq:
                check.missing = (seq, row.seq - 1)
                check.first_broken_id, check.first_broken_seq = row.id, row.seq
                check.fail(_range(seq, row.seq - 1) + f" missing before row id {row.id}: rows were deleted")
                return
            if row.prev_hash != prev:
                check.first_broken_id, check.first_broken_seq = row.id, row.seq
                check.fail(
                    f"row id {row.id} (place {row.seq}) does not follow the row before it: "
                    "rows were removed, inserted or reordered"
                )
                return
            if mac(keys.chain, row, seq=seq, prev_hash=prev) != row.hash:
                check.first_broken_id, check.first_broken_seq = row.id, row.seq
                check.fail(f"row id {row.id} (place {row.seq}) was altered, forged or sealed with another key")
                return
            if seq in wanted:
                seen[seq] = row.hash
            prev = row.hash
            seq += 1
            check.rows += 1
            check.head_seq = row.seq


def _range(first: int, last: int) -> str:
    return f"place {first} of the chain is" if first == last else f"places {first}-{last} of the chain are"


def _compare_checkpoints(
    found: list[ReadCheckpoint],
    keys: AuditKeys,
    seen: dict[int, str],
    start_seq: int,
    check: ChainCheck,
) -> None:
    latest: Checkpoint | None = None
    for item in found:
        checkpoint = item.checkpoint
        if checkpoint is None:
            check.fail(f"checkpoint line {item.line} cannot be read")
            continue
        if not checkpoint.signed_by(keys):
            who = "another key" if checkpoint.key_id != keys.key_id else "a signature that does not verify"
            check.fail(
                f"checkpoint line {item.line} ({checkpoint.at.isoformat()}) carries {who}: "
                "forged, or the audit key was replaced"
            )
            continue
        if checkpoint.seq < start_seq - 1:
            continue  # before the range asked for
        check.checkpoints += 1
        if latest is None or checkpoint.seq > latest.seq:
            latest = checkpoint
        if checkpoint.seq in seen and seen[checkpoint.seq] != checkpoint.head:
            check.fail(
                f"place {checkpoint.seq} differs from the checkpoint of {checkpoint.at.isoformat()}: "
                "the chain was rewritten or replaced by an older copy"
            )
    if latest is not None and check.missing is None and check.first_broken_id is None and latest.seq > check.head_seq:
        check.missing = (check.head_seq + 1, latest.seq)
        check.fail(
            _range(check.head_seq + 1, latest.seq)
            + f" missing: the checkpoint of {latest.at.isoformat()} counted {latest.seq} rows "
            "(the table was truncated, its tail deleted, or an older copy restored)"
        )


def _unsealed(session: Session) -> Unsealed:
    count, first, last = session.execute(
        select(func.count(), func.min(TABLE.c.id), func.max(TABLE.c.id)).where(TABLE.c.seq.is_(None))
    ).one()
    return Unsealed(count or 0, first, last)
