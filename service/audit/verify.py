"""Verifying the audit log: the chain row by row, then the signed checkpoints against the table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from service.audit.chain import GENESIS, TABLE, mac
from service.audit.checkpoints import Checkpoint, ReadCheckpoint, checkpoint_path, read_checkpoints
from service.audit.keys import AuditKeyRing, AuditKeys, audit_key_ring, ring_of
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
    rows_by_key: dict[str, int] = field(default_factory=dict)  # key id -> sealed rows checked, in chain order

    def fail(self, message: str) -> None:
        self.ok = False
        self.problems.append(message)


def verify_chain(
    session: Session,
    *,
    since: datetime | None = None,
    checkpoints: Path | None = None,
    keys: AuditKeys | AuditKeyRing | None = None,
) -> ChainCheck:
    """Recompute every sealed row's HMAC in chain order (from ``since`` when given), each with the key
    it names (current or retired), then compare the checkpoints found in the sink file with the table."""
    ring = keys if isinstance(keys, AuditKeyRing) else ring_of(keys) if keys is not None else audit_key_ring()
    path = checkpoints if checkpoints is not None else checkpoint_path(get_settings())
    found = read_checkpoints(path)
    check = ChainCheck()
    start_seq, prev = _anchor(session, since, check)
    wanted = {item.checkpoint.seq for item in found if item.checkpoint is not None}
    seen: dict[int, str] = {}
    if check.ok:
        _walk(session, ring, start_seq, prev, wanted, seen, check)
    _compare_checkpoints(found, ring, seen, start_seq, check)
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
    session: Session, ring: AuditKeyRing, seq: int, prev: str, wanted: set[int], seen: dict[int, str], check: ChainCheck
) -> None:
    latest_rank = 0  # keys only move forward along the chain
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
            rank, problem = _row_key(ring, row, seq, prev, latest_rank)
            if problem:
                check.first_broken_id, check.first_broken_seq = row.id, row.seq
                check.fail(f"row id {row.id} (place {row.seq}) {problem}")
                return
            assert rank is not None
            latest_rank = rank
            key_id = ring.all[rank].key_id
            check.rows_by_key[key_id] = check.rows_by_key.get(key_id, 0) + 1
            if seq in wanted:
                seen[seq] = row.hash
            prev = row.hash
            seq += 1
            check.rows += 1
            check.head_seq = row.seq


def _row_key(ring: AuditKeyRing, row: Any, seq: int, prev: str, latest_rank: int) -> tuple[int | None, str]:
    """The ring's place of the key that sealed this row, or what is wrong with it."""
    if row.key_id is None:
        # Sealed before rows named their key: with the first key, so before any row that names one.
        for place, keys in enumerate(ring.all[latest_rank:], start=latest_rank):
            if mac(keys.chain, row, seq=seq, prev_hash=prev) == row.hash:
                return place, ""
        return None, "was altered, forged or sealed with another key"
    rank = ring.rank(row.key_id)
    if rank is None:
        return None, (
            f"names audit key {row.key_id}, which is neither the current key nor a retired one: "
            "forged, or TANDEM_AUDIT_RETIRED_KEYS lacks that key"
        )
    if rank < latest_rank:
        return None, (
            f"was sealed with retired key {row.key_id} after a newer key was in use: "
            "forged with an old key, or sealed by a replica that still ran with it"
        )
    if mac(ring.all[rank].chain, row, seq=seq, prev_hash=prev) != row.hash:
        return None, "was altered, forged or sealed with another key"
    return rank, ""


def _range(first: int, last: int) -> str:
    return f"place {first} of the chain is" if first == last else f"places {first}-{last} of the chain are"


def _compare_checkpoints(
    found: list[ReadCheckpoint],
    ring: AuditKeyRing,
    seen: dict[int, str],
    start_seq: int,
    check: ChainCheck,
) -> None:
    latest: Checkpoint | None = None
    genuine: list[Checkpoint] = []
    for item in found:
        checkpoint = item.checkpoint
        if checkpoint is None:
            check.fail(f"checkpoint line {item.line} cannot be read")
            continue
        if not checkpoint.signed_by(ring):
            who = "another key" if ring.get(checkpoint.key_id) is None else "a signature that does not verify"
            check.fail(
                f"checkpoint line {item.line} ({checkpoint.at.isoformat()}) carries {who}: "
                "forged, or the audit key was replaced"
            )
            continue
        genuine.append(checkpoint)
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
    _keys_move_forward(genuine, ring, check)
    if latest is not None and check.missing is None and check.first_broken_id is None and latest.seq > check.head_seq:
        check.missing = (check.head_seq + 1, latest.seq)
        check.fail(
            _range(check.head_seq + 1, latest.seq)
            + f" missing: the checkpoint of {latest.at.isoformat()} counted {latest.seq} rows "
            "(the table was truncated, its tail deleted, or an older copy restored)"
        )


def _keys_move_forward(genuine: list[Checkpoint], ring: AuditKeyRing, check: ChainCheck) -> None:
    """A checkpoint signed with a retired key after (further along the chain than) one signed with a
    newer key was made with a key that should no longer sign: forged with a leaked old key."""
    newest_rank, newest = -1, None
    for checkpoint in sorted(genuine, key=lambda c: (c.seq, c.at)):
        rank = ring.rank(checkpoint.key_id)
        assert rank is not None  # genuine: the ring holds its key
        if rank < newest_rank and newest is not None:
            check.fail(
                f"the checkpoint of {checkpoint.at.isoformat()} is signed with retired key {checkpoint.key_id} "
                f"after the checkpoint of {newest.at.isoformat()} used a newer key: forged with an old key"
            )
            return
        if rank > newest_rank:
            newest_rank, newest = rank, checkpoint


def _unsealed(session: Session) -> Unsealed:
    count, first, last = session.execute(
        select(func.count(), func.min(TABLE.c.id), func.max(TABLE.c.id)).where(TABLE.c.seq.is_(None))
    ).one()
    return Unsealed(count or 0, first, last)
