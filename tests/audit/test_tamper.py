"""The ten ways to tamper with the audit log, each detected by `audit.verify_chain` (and so by
`tandem audit verify`). The attacker here got past the append-only triggers (a superuser, or
someone holding the SQLite file) but does not hold TANDEM_AUDIT_KEY."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from service import audit
from service.audit.chain import mac
from service.audit.checkpoints import make_checkpoint, publish
from service.audit.keys import keys_from_secret
from service.config import get_settings
from tests.audit.conftest import past_the_guards, sealed_chain, write_rows

ATTACKER_KEY = "an-attacker-key-that-is-long-enough-0123456789"


def test_an_untouched_log_verifies(session: Session, checkpoint_file: Path) -> None:
    rows = sealed_chain(session, 20)
    check = audit.verify_chain(session)
    assert check.ok, check.problems
    assert (check.rows, check.head_seq, check.checkpoints) == (20, 20, 1)
    assert [row.seq for row in rows] == list(range(1, 21))


def test_1_rewriting_a_field_is_found_at_that_row(session: Session, checkpoint_file: Path) -> None:
    rows = sealed_chain(session)
    with past_the_guards(session):
        session.execute(text("UPDATE audit_event SET actor_id = 'someone-else' WHERE id = :id"), {"id": rows[7].id})
    check = audit.verify_chain(session)
    assert not check.ok
    assert check.first_broken_id == rows[7].id and check.first_broken_seq == 8
    assert "altered" in check.problems[0]


def test_2_deleting_a_middle_row_is_a_missing_place(session: Session, checkpoint_file: Path) -> None:
    rows = sealed_chain(session)
    with past_the_guards(session):
        session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": rows[9].id})
    check = audit.verify_chain(session)
    assert not check.ok
    assert check.missing == (10, 10)
    assert check.first_broken_id == rows[10].id


def test_3_deleting_the_last_row_is_found_by_the_checkpoint(session: Session, checkpoint_file: Path) -> None:
    rows = sealed_chain(session)
    with past_the_guards(session):
        session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": rows[-1].id})
    check = audit.verify_chain(session)
    assert not check.ok
    assert check.missing == (20, 20)
    assert "counted 20 rows" in check.problems[0]


def test_4_deleting_the_last_ten_rows_is_found_by_the_checkpoint(session: Session, checkpoint_file: Path) -> None:
    rows = sealed_chain(session)
    with past_the_guards(session):
        session.execute(text("DELETE FROM audit_event WHERE seq > 10"))
    check = audit.verify_chain(session)
    assert not check.ok
    assert check.missing == (11, 20)
    assert check.head_seq == 10 and len(rows) == 20


def test_5_a_forged_row_is_found(session: Session, checkpoint_file: Path) -> None:
    rows = sealed_chain(session)
    last = rows[-1]
    forged = {
        "at": last.at,
        "actor_type": "staff",
        "actor_id": "a-friendly-clinician",
        "action": "patient.view",
        "detail": json.dumps({}),
        "seq": 21,
        "prev_hash": last.hash,
    }
    # Without the key, the best the attacker can do is a plain hash of the row.
    forged["hash"] = hashlib.sha256(json.dumps(forged, default=str).encode()).hexdigest()
    session.execute(
        text(
            "INSERT INTO audit_event (at, actor_type, actor_id, action, detail, seq, prev_hash, hash) "
            "VALUES (:at, :actor_type, :actor_id, :action, :detail, :seq, :prev_hash, :hash)"
        ),
        {**forged, "at": last.at.replace(tzinfo=None) if session.get_bind().dialect.name == "sqlite" else last.at},
    )
    session.commit()
    forged_id = session.execute(text("SELECT id FROM audit_event WHERE seq = 21")).scalar()
    check = audit.verify_chain(session)
    assert not check.ok
    assert check.first_broken_id == forged_id and check.first_broken_seq == 21


def test_6_reordering_rows_is_found(session: Session, checkpoint_file: Path) -> None:
    rows = sealed_chain(session)
    a, b = rows[4], rows[5]
    with past_the_guards(session):
        # Row b moves before row a, each taking the other's place and chain values.
        session.execute(text("UPDATE audit_event SET seq = -1 WHERE id = :id"), {"id": a.id})
        session.execute(
            text("UPDATE audit_event SET seq = :seq, prev_hash = :prev, hash = :hash WHERE id = :id"),
            {"seq": a.seq, "prev": a.prev_hash, "hash": a.hash, "id": b.id},
        )
        session.execute(
            text("UPDATE audit_event SET seq = :seq, prev_hash = :prev, hash = :hash WHERE id = :id"),
            {"seq": b.seq, "prev": b.prev_hash, "hash": b.hash, "id": a.id},
        )
    check = audit.verify_chain(session)
    assert not check.ok
    assert check.first_broken_seq == 5 and check.first_broken_id == b.id


def test_7_rewriting_a_row_and_recomputing_every_later_hash_is_found(session: Session, checkpoint_file: Path) -> None:
    rows = sealed_chain(session)
    guess = keys_from_secret(ATTACKER_KEY).chain  # the attacker knows the algorithm, not the key
    with past_the_guards(session):
        session.execute(text("UPDATE audit_event SET action = 'patient.list' WHERE id = :id"), {"id": rows[11].id})
        session.expire_all()
        prev = rows[10].hash
        for row in rows[11:]:
            session.refresh(row)
            digest = mac(guess, row, seq=row.seq, prev_hash=prev)  # type: ignore[arg-type]
            session.execute(
                text("UPDATE audit_event SET prev_hash = :prev, hash = :hash WHERE id = :id"),
                {"prev": prev, "hash": digest, "id": row.id},
            )
            prev = digest
    check = audit.verify_chain(session)
    assert not check.ok
    assert check.first_broken_id == rows[11].id and "altered" in check.problems[0]


def test_8_truncating_the_table_is_refused_and_found(session: Session, checkpoint_file: Path) -> None:
    sealed_chain(session)
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = "TRUNCATE audit_event" if postgres else "DELETE FROM audit_event"
    with pytest.raises(Exception, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    if postgres:
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_truncate"))
        session.execute(text(statement))
        session.commit()
    else:
        with past_the_guards(session):
            session.execute(text(statement))
    check = audit.verify_chain(session)
    assert not check.ok
    assert check.missing == (1, 20) and check.head_seq == 0


def test_9_a_replaced_key_or_a_forged_checkpoint_is_found(
    session: Session, checkpoint_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = sealed_chain(session)
    # The attacker rewrites a row, reseals the whole chain with a key of their own and signs a checkpoint with it.
    attacker = keys_from_secret(ATTACKER_KEY)
    with past_the_guards(session):
        session.execute(text("UPDATE audit_event SET patient_id = NULL WHERE id = :id"), {"id": rows[2].id})
        session.expire_all()
        prev = audit.chain.GENESIS
        for row in rows:
            session.refresh(row)
            digest = mac(attacker.chain, row, seq=row.seq, prev_hash=prev)  # type: ignore[arg-type]
            session.execute(  # and each row names the attacker's key, as if it had sealed it
                text("UPDATE audit_event SET prev_hash = :prev, hash = :hash, key_id = :key WHERE id = :id"),
                {"prev": prev, "hash": digest, "key": attacker.key_id, "id": row.id},
            )
            prev = digest
    publish(make_checkpoint(audit.chain.head(session), attacker))

    check = audit.verify_chain(session)  # with the real key
    assert not check.ok
    assert check.first_broken_id == rows[0].id
    assert any("another key" in problem for problem in check.problems)

    # Even with TANDEM_AUDIT_KEY replaced by theirs, the checkpoints signed before betray them.
    monkeypatch.setenv("TANDEM_AUDIT_KEY", ATTACKER_KEY)
    get_settings.cache_clear()
    replaced = audit.verify_chain(session)
    assert not replaced.ok
    assert replaced.first_broken_id is None
    assert any("line 1" in problem and "another key" in problem for problem in replaced.problems)


def test_9b_a_checkpoint_edited_by_hand_does_not_verify(session: Session, checkpoint_file: Path) -> None:
    sealed_chain(session)
    line = json.loads(checkpoint_file.read_text().splitlines()[0])
    checkpoint_file.write_text(json.dumps({**line, "seq": 10}) + "\n")  # to hide a deleted tail
    with past_the_guards(session):
        session.execute(text("DELETE FROM audit_event WHERE seq > 10"))
    check = audit.verify_chain(session)
    assert not check.ok
    assert "signature that does not verify" in check.problems[0]


def test_10_restoring_an_older_copy_of_the_table_is_found(session: Session, checkpoint_file: Path) -> None:
    sealed_chain(session, 20)
    session.execute(text("CREATE TABLE audit_backup AS SELECT * FROM audit_event"))
    session.commit()
    write_rows(session, 5, start=100)
    audit.seal(session)
    audit.write_checkpoint(session)

    with past_the_guards(session):
        session.execute(text("DELETE FROM audit_event"))
        session.execute(text("INSERT INTO audit_event SELECT * FROM audit_backup"))
    check = audit.verify_chain(session)
    assert not check.ok
    assert check.missing == (21, 25) and check.rows == 20

    # The service then carries on over the old copy: new rows take places 21-25 with other hashes.
    write_rows(session, 5, start=200)
    audit.seal(session)
    later = audit.verify_chain(session)
    assert not later.ok
    assert any("place 25 differs from the checkpoint" in problem for problem in later.problems)
