"""Audit tests: a checkpoint file of their own, rows written through ``audit.record``, and a way to
act as an attacker who got past the database's guards (a superuser, or someone with the SQLite file)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from service import audit
from service.audit import checkpoints
from service.config import get_settings
from service.db import unit_of_work
from service.models import AuditEvent
from tests.factories import SYSTEM


@pytest.fixture
def checkpoint_file(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "audit-checkpoints.jsonl"
    monkeypatch.setenv("TANDEM_AUDIT_CHECKPOINT_PATH", str(path))
    monkeypatch.setenv("TANDEM_AUDIT_CHECKPOINT_SINK", "file")
    monkeypatch.setattr(checkpoints, "clock", checkpoints.CheckpointClock())  # this process published nothing yet
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def write_rows(session: Session, count: int, *, action: str = "patient.view", start: int = 0) -> list[int]:
    """``count`` audit rows, one transaction each; their ids."""
    ids = []
    for n in range(start, start + count):
        with unit_of_work(session):
            event = audit.record(
                session, actor=SYSTEM, action=action, entity_type="patient", entity_id=f"p{n}", detail={"n": n}
            )
        ids.append(event.id)
    return ids


def sealed_chain(session: Session, rows: int = 20) -> list[AuditEvent]:
    """``rows`` rows, sealed, with a checkpoint of the head: the state an operator trusts."""
    write_rows(session, rows)
    audit.seal(session)
    assert audit.write_checkpoint(session) is not None
    return chain(session)


def chain(session: Session) -> list[AuditEvent]:
    session.expire_all()
    rows = session.execute(text("SELECT id, seq FROM audit_event WHERE seq IS NOT NULL ORDER BY seq")).all()
    return [session.get(AuditEvent, row.id) for row in rows]  # type: ignore[misc]


@contextmanager
def past_the_guards(session: Session) -> Iterator[Session]:
    """Run SQL that the append-only triggers refuse, then commit it, as an attacker with full access would."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET session_replication_role = replica"))  # triggers do not fire
        yield session
        session.execute(text("SET session_replication_role = DEFAULT"))
    else:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("DROP TRIGGER audit_event_no_delete"))
        yield session
    session.commit()
    session.expire_all()
