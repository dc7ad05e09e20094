"""Writers append without waiting on each other; one sealer chains the rows, never skipping a row
that commits late; the database refuses to change or remove a row."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from service import audit
from service.db import new_session, unit_of_work
from service.models import AuditEvent
from service.scheduler import jobs
from tests.audit.conftest import chain, past_the_guards, sealed_chain, write_rows
from tests.factories import SYSTEM


def _postgres_only(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite lets one transaction write at a time, so audit ids always commit in order there")


def test_rows_are_written_unsealed_and_sealed_in_id_order(session: Session, checkpoint_file: Path) -> None:
    ids = write_rows(session, 5)
    assert chain(session) == []  # nothing sealed yet
    before = audit.verify_chain(session)
    assert (
        before.ok
        and before.unsealed.count == 5
        and (before.unsealed.first_id, before.unsealed.last_id) == (ids[0], ids[-1])
    )

    report = audit.seal(session)
    assert report.sealed == 5 and report.head.seq == 5
    sealed = chain(session)
    assert [event.id for event in sealed] == ids
    assert [event.prev_hash for event in sealed[1:]] == [event.hash for event in sealed[:-1]]
    after = audit.verify_chain(session)
    assert after.ok and after.unsealed.count == 0 and after.rows == 5
    assert audit.seal(session).sealed == 0  # nothing new


def test_a_batch_of_reads_is_sealed_like_single_rows(session: Session, checkpoint_file: Path) -> None:
    with unit_of_work(session):
        audit.record_reads(session, actor=SYSTEM, action="patient.list", patient_ids=[f"p{n}" for n in range(30)])
    assert audit.seal(session, batch=7).sealed == 30
    check = audit.verify_chain(session)
    assert check.ok and check.rows == 30


def test_a_row_that_commits_late_is_sealed_by_the_next_run(session: Session, checkpoint_file: Path) -> None:
    _postgres_only(session)
    slow = new_session()
    try:
        early = audit.record(slow, actor=SYSTEM, action="patient.view", entity_id="slow")
        slow.flush()  # id taken, not committed (record() leaves the flush to the transaction's batch)
        later = write_rows(session, 3)
        assert early.id is not None and early.id < later[0]
        assert audit.seal(session).sealed == 3  # the open transaction's row is not visible yet
        slow.commit()
    finally:
        slow.close()
    report = audit.seal(session)
    assert report.sealed == 1 and report.head.seq == 4
    assert [event.id for event in chain(session)] == [*later, early.id]
    check = audit.verify_chain(session)
    assert check.ok and check.rows == 4 and check.unsealed.count == 0


def test_writers_do_not_wait_for_each_other(session: Session) -> None:
    _postgres_only(session)
    first, second = new_session(), new_session()
    try:
        audit.record(first, actor=SYSTEM, action="patient.view", entity_id="one")  # transaction left open
        second.execute(text("SET lock_timeout = '1s'"))
        with unit_of_work(second):
            audit.record(second, actor=SYSTEM, action="patient.view", entity_id="two")
        first.commit()
    finally:
        first.close()
        second.close()
    assert sorted(event.entity_id or "" for event in session.exec(select(AuditEvent)).all()) == ["one", "two"]


def test_the_database_refuses_to_change_or_delete_a_row(session: Session, checkpoint_file: Path) -> None:
    rows = sealed_chain(session, 3)
    write_rows(session, 1, start=50)
    unsealed_id = session.execute(text("SELECT id FROM audit_event WHERE seq IS NULL")).scalar()
    refused = [
        ("UPDATE audit_event SET action = 'x' WHERE id = :id", rows[0].id),
        ("UPDATE audit_event SET seq = 99, hash = 'h' WHERE id = :id", rows[1].id),  # sealing twice
        (
            "UPDATE audit_event SET action = 'x', seq = 4, hash = 'h' WHERE id = :id",
            unsealed_id,
        ),  # content while sealing
        ("DELETE FROM audit_event WHERE id = :id", rows[2].id),
        ("DELETE FROM audit_event WHERE id = :id", unsealed_id),
    ]
    for statement, row_id in refused:
        with pytest.raises(Exception, match="append-only"):
            session.execute(text(statement), {"id": row_id})
        session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        with pytest.raises(Exception, match="append-only"):
            session.execute(text("TRUNCATE audit_event"))
        session.rollback()
    assert audit.verify_chain(session).ok


def test_the_scheduled_job_seals_and_publishes_a_checkpoint(session: Session, checkpoint_file: Path) -> None:
    write_rows(session, 4)
    jobs.seal_audit()
    assert len(chain(session)) == 4
    lines = checkpoint_file.read_text().splitlines()
    assert len(lines) == 1 and '"seq": 4' in lines[0]
    jobs.seal_audit()  # the head did not move: no new checkpoint
    assert len(checkpoint_file.read_text().splitlines()) == 1


def test_checkpoints_in_the_log_stream_are_read_back_from_a_log_file(
    session: Session,
    checkpoint_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    from service.config import get_settings

    monkeypatch.setenv("TANDEM_AUDIT_CHECKPOINT_SINK", "log")
    get_settings.cache_clear()
    write_rows(session, 6)
    audit.seal(session)
    with caplog.at_level(logging.INFO, logger="tandem.audit.checkpoint"):
        audit.write_checkpoint(session)
    assert not checkpoint_file.exists()
    shipped = tmp_path / "app.log"
    shipped.write_text("".join(f"2026-11-30 INFO {record.name}: {record.getMessage()}\n" for record in caplog.records))
    with past_the_guards(session):
        session.execute(text("DELETE FROM audit_event WHERE seq = 6"))
    check = audit.verify_chain(session, checkpoints=shipped)
    assert not check.ok and check.missing == (6, 6) and check.checkpoints == 1


def test_an_audit_row_still_commits_or_rolls_back_with_the_change_it_records(session: Session) -> None:
    with pytest.raises(RuntimeError), unit_of_work(session):
        audit.record(session, actor=SYSTEM, action="patient.view", entity_id="gone")
        raise RuntimeError("the change failed")
    assert session.exec(select(AuditEvent)).all() == []


def test_a_second_sealer_steps_aside_while_one_is_running(session: Session, checkpoint_file: Path) -> None:
    _postgres_only(session)
    write_rows(session, 2)
    running = new_session()
    try:
        running.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": audit.chain.SEAL_LOCK})
        report = audit.seal(session)
        assert report.busy and report.sealed == 0
    finally:
        running.rollback()
        running.close()
    assert audit.seal(session).sealed == 2


def test_rows_written_together_keep_their_own_ids_in_the_order_written(session: Session) -> None:
    """The rows of one transaction go out in one multi-row INSERT on both databases; each row object
    gets the id of its own row, in the order written (the sealer chains in id order)."""
    with unit_of_work(session):
        written = [audit.record(session, actor=SYSTEM, action="patient.view", entity_id=f"e{n}") for n in range(7)]
    ids = [event.id for event in written]
    assert ids == sorted(ids) and len(set(ids)) == 7
    stored = {row.id: row.entity_id for row in session.exec(select(AuditEvent)).all()}
    assert [stored[i] for i in ids] == [f"e{n}" for n in range(7)]
