"""Signed checkpoints of the chain's head, written outside the audit table.

A checkpoint says "at this time the chain held ``seq`` sealed rows ending in ``head``", signed with
Ed25519. It goes to a second sink (a JSON-lines file and/or the log stream, which operators ship
elsewhere), so removing the tail of the table, or the whole table, or restoring an older copy of it,
leaves checkpoints that the table no longer matches.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy.engine import make_url
from sqlmodel import Session

from service.audit.chain import Head, head
from service.audit.keys import AuditKeyRing, AuditKeys, audit_key_ring
from service.config import PROJECT_ROOT, Settings, get_settings
from service.models.base import utcnow

log = logging.getLogger("tandem.audit.checkpoint")
LOG_PREFIX = "audit checkpoint "


@dataclass(frozen=True)
class Checkpoint:
    seq: int  # rows in the chain: the head's place
    head: str
    last_id: int | None
    at: datetime
    key_id: str
    signature: str = ""

    def payload(self) -> bytes:
        fields = {
            "v": 1,
            "seq": self.seq,
            "head": self.head,
            "last_id": self.last_id,
            "at": self.at.isoformat(),
            "key": self.key_id,
        }
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "seq": self.seq,
                "head": self.head,
                "last_id": self.last_id,
                "at": self.at.isoformat(),
                "key": self.key_id,
                "sig": self.signature,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        return cls(
            seq=int(data["seq"]),
            head=str(data["head"]),
            last_id=None if data.get("last_id") is None else int(data["last_id"]),
            at=datetime.fromisoformat(str(data["at"])),
            key_id=str(data["key"]),
            signature=str(data["sig"]),
        )

    def signed_by(self, keys: AuditKeys | AuditKeyRing) -> bool:
        """Genuine: signed by the key it names, which ``keys`` holds (a ring: current or retired)."""
        if isinstance(keys, AuditKeyRing):
            found = keys.get(self.key_id)
            if found is None:
                return False
            keys = found
        if self.key_id != keys.key_id:
            return False
        try:
            keys.public.verify(base64.b64decode(self.signature), self.payload())
        except (InvalidSignature, ValueError):
            return False
        return True


def make_checkpoint(chain_head: Head, keys: AuditKeys, *, at: datetime | None = None) -> Checkpoint:
    unsigned = Checkpoint(chain_head.seq, chain_head.hash, chain_head.event_id, at or utcnow(), keys.key_id)
    signature = base64.b64encode(keys.signing.sign(unsigned.payload())).decode()
    return Checkpoint(unsigned.seq, unsigned.head, unsigned.last_id, unsigned.at, unsigned.key_id, signature)


def checkpoint_path(settings: Settings) -> Path:
    """TANDEM_AUDIT_CHECKPOINT_PATH, or a file named after the database, so that two databases
    (a demo and a clinic, or test databases) never read each other's checkpoints."""
    if settings.audit_checkpoint_path is not None:
        return Path(settings.audit_checkpoint_path)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        return database.with_name(database.stem + ".audit-checkpoints.jsonl")
    name = "-".join(part for part in (url.host, str(url.port or ""), url.database) if part) or "database"
    return PROJECT_ROOT / "var" / f"audit-checkpoints-{name}.jsonl"


def sinks(settings: Settings) -> set[str]:
    return {part.strip() for part in settings.audit_checkpoint_sink.split(",") if part.strip()}


def publish(checkpoint: Checkpoint, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    wanted = sinks(settings)
    line = checkpoint.to_json()
    if "file" in wanted:
        path = checkpoint_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
    if "log" in wanted:
        log.info("%s%s", LOG_PREFIX, line)


def write_checkpoint(session: Session, *, settings: Settings | None = None) -> Checkpoint | None:
    """Sign the chain's current head and publish it; nothing while the chain is empty."""
    settings = settings or get_settings()
    current = head(session)
    session.rollback()
    ring = audit_key_ring(settings)
    if current.empty or (current.key_id is not None and ring.rank(current.key_id) is None):
        return None  # nothing sealed, or sealed with a newer key than this process holds
    checkpoint = make_checkpoint(current, ring.current)
    publish(checkpoint, settings)
    return checkpoint


class CheckpointClock:
    """When this process last published: a checkpoint when the head moved and the interval passed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at = float("-inf")
        self._seq = 0

    def due(self, chain_head: Head, every_seconds: float) -> bool:
        with self._lock:
            return chain_head.seq > self._seq and time.monotonic() - self._at >= every_seconds

    def published(self, checkpoint: Checkpoint) -> None:
        with self._lock:
            self._at, self._seq = time.monotonic(), checkpoint.seq


clock = CheckpointClock()


def checkpoint_if_due(session: Session, chain_head: Head, *, settings: Settings | None = None) -> Checkpoint | None:
    settings = settings or get_settings()
    if not clock.due(chain_head, settings.audit_checkpoint_seconds):
        return None
    checkpoint = write_checkpoint(session, settings=settings)
    if checkpoint is not None:
        clock.published(checkpoint)
    return checkpoint


@dataclass(frozen=True)
class ReadCheckpoint:
    line: int
    checkpoint: Checkpoint | None  # None: the line looked like a checkpoint but could not be read


def read_checkpoints(path: Path) -> list[ReadCheckpoint]:
    """Checkpoints from a sink file, or from a log file holding the log sink's lines."""
    found: list[ReadCheckpoint] = []
    if not path.exists():
        return found
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            start = line.find("{")
            if start < 0 or ('"sig"' not in line and LOG_PREFIX not in line):
                continue
            try:
                found.append(ReadCheckpoint(number, Checkpoint.from_json(json.loads(line[start:]))))
            except (ValueError, KeyError, TypeError):
                found.append(ReadCheckpoint(number, None))
    return found
