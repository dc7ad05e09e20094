"""Rotating the audit key: new rows and checkpoints use the new key, the old one stays to verify what it
sealed, and a leaked old key can neither extend the log nor sign a later checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from service import audit
from service.audit.chain import TABLE, mac
from service.audit.checkpoints import make_checkpoint, publish
from service.audit.keys import audit_key_ring, keys_from_secret
from service.config import get_settings
from tests.audit.conftest import chain, past_the_guards, sealed_chain, write_rows

OLD = "the-first-audit-key-of-this-clinic-0123456789"
NEW = "the-second-audit-key-after-rotation-9876543210"


def _use_keys(monkeypatch: pytest.MonkeyPatch, current: str, retired: str | None = None) -> None:
    monkeypatch.setenv("TANDEM_AUDIT_KEY", current)
    if retired is None:
        monkeypatch.delenv("TANDEM_AUDIT_RETIRED_KEYS", raising=False)
    else:
        monkeypatch.setenv("TANDEM_AUDIT_RETIRED_KEYS", retired)
    get_settings.cache_clear()


def _rotated_log(session: Session, monkeypatch: pytest.MonkeyPatch) -> list:  # type: ignore[type-arg]
    """10 rows and a checkpoint under the old key, then 10 rows and a checkpoint under the new one."""
    _use_keys(monkeypatch, OLD)
    sealed_chain(session, 10)
    _use_keys(monkeypatch, NEW, retired=OLD)
    write_rows(session, 10, start=10)
    audit.seal(session)
    assert audit.write_checkpoint(session) is not None
    return chain(session)


def test_after_a_rotation_new_rows_name_the_new_key_and_the_whole_log_verifies(
    session: Session, checkpoint_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _rotated_log(session, monkeypatch)
    old, new = keys_from_secret(OLD), keys_from_secret(NEW)
    assert [row.key_id for row in rows] == [old.key_id] * 10 + [new.key_id] * 10
    check = audit.verify_chain(session)
    assert check.ok, check.problems
    assert (check.rows, check.checkpoints) == (20, 2)
    assert check.rows_by_key == {old.key_id: 10, new.key_id: 10}
    assert [line["key"] for line in map(_json, checkpoint_file.read_text().splitlines())] == [old.key_id, new.key_id]


def test_without_the_retired_key_verification_says_which_key_is_missing(
    session: Session, checkpoint_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _rotated_log(session, monkeypatch)
    _use_keys(monkeypatch, NEW)  # the operator dropped the old key from the ring
    check = audit.verify_chain(session)
    assert not check.ok
    assert check.first_broken_id == rows[0].id
    assert keys_from_secret(OLD).key_id in check.problems[0] and "RETIRED" in check.problems[0]


def test_a_leaked_retired_key_cannot_extend_the_log(
    session: Session, checkpoint_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _rotated_log(session, monkeypatch)
    old = keys_from_secret(OLD)
    # Someone holding the old key seals a new row with it after the rotation, and names that key.
    [extra] = write_rows(session, 1, start=20)
    session.expire_all()
    row = session.execute(select(*TABLE.c).where(TABLE.c.id == extra)).one()
    digest = mac(old.chain, row, seq=21, prev_hash=rows[-1].hash)
    session.execute(
        text("UPDATE audit_event SET seq = 21, prev_hash = :prev, hash = :hash, key_id = :key WHERE id = :id"),
        {"prev": rows[-1].hash, "hash": digest, "key": old.key_id, "id": extra},
    )
    session.commit()
    check = audit.verify_chain(session)
    assert not check.ok
    assert check.first_broken_id == extra and "retired key" in check.problems[0]


def test_a_checkpoint_signed_with_a_retired_key_after_the_rotation_is_refused(
    session: Session, checkpoint_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rotated_log(session, monkeypatch)
    publish(make_checkpoint(audit.chain.head(session), keys_from_secret(OLD)))
    check = audit.verify_chain(session)
    assert not check.ok
    assert any("signed with retired key" in problem for problem in check.problems)


def test_a_replica_still_running_the_old_key_seals_and_signs_nothing(
    session: Session, checkpoint_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rotated_log(session, monkeypatch)
    write_rows(session, 3, start=20)
    _use_keys(monkeypatch, OLD)  # not restarted with the new ring yet
    report = audit.seal(session)
    assert report.stale_key and report.sealed == 0
    assert audit.write_checkpoint(session) is None
    _use_keys(monkeypatch, NEW, retired=OLD)  # restarted: it seals them with the new key
    assert audit.seal(session).sealed == 3
    assert audit.verify_chain(session).ok


def test_rows_sealed_before_keys_had_ids_verify_across_a_rotation(
    session: Session, checkpoint_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _rotated_log(session, monkeypatch)
    with past_the_guards(session):  # as rows sealed before migration 0015 are
        session.execute(text("UPDATE audit_event SET key_id = NULL WHERE seq <= 10"))
    check = audit.verify_chain(session)
    assert check.ok, check.problems
    assert check.rows_by_key == {keys_from_secret(OLD).key_id: 10, keys_from_secret(NEW).key_id: 10}
    assert len(rows) == 20


def test_the_ring_puts_retired_keys_first_and_ignores_the_current_one_listed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use_keys(monkeypatch, NEW, retired=f"{OLD}, {NEW}")
    ring = audit_key_ring()
    assert [k.key_id for k in ring.all] == [keys_from_secret(OLD).key_id, keys_from_secret(NEW).key_id]
    assert ring.current.key_id == keys_from_secret(NEW).key_id


def _json(line: str) -> dict:  # type: ignore[type-arg]
    import json

    return json.loads(line)
