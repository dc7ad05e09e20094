"""`tandem audit verify`: exit 0 when intact, 1 with the first broken row or the missing range."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session
from typer.testing import CliRunner

from service.cli import app
from tests.audit.conftest import past_the_guards, sealed_chain, write_rows

runner = CliRunner()


def test_verify_says_intact_and_which_rows_are_not_sealed_yet(session: Session, checkpoint_file: Path) -> None:
    sealed_chain(session, 12)
    late = write_rows(session, 3, start=100)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 12 rows checked" in result.output and "1 checkpoint(s) match" in result.output
    assert f"3 row(s) not sealed yet (ids {late[0]} to {late[-1]})" in result.output


def test_verify_prints_the_first_broken_row_and_exits_1(session: Session, checkpoint_file: Path) -> None:
    rows = sealed_chain(session, 12)
    with past_the_guards(session):
        session.execute(text("UPDATE audit_event SET entity_id = 'p999' WHERE id = :id"), {"id": rows[4].id})
        session.execute(text("UPDATE audit_event SET entity_id = 'p998' WHERE id = :id"), {"id": rows[8].id})
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN" in result.output and f"row id {rows[4].id} (place 5) was altered" in result.output
    as_json = json.loads(runner.invoke(app, ["audit", "verify", "--json"]).stdout)
    assert as_json["ok"] is False and as_json["first_broken_id"] == rows[4].id


def test_verify_prints_the_missing_range(session: Session, checkpoint_file: Path) -> None:
    sealed_chain(session, 12)
    with past_the_guards(session):
        session.execute(text("DELETE FROM audit_event WHERE seq >= 9"))
    result = runner.invoke(app, ["audit", "verify", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["missing"] == [9, 12]


def test_verify_since_checks_only_the_rows_sealed_from_then_on(session: Session, checkpoint_file: Path) -> None:
    rows = sealed_chain(session, 10)
    with past_the_guards(session):
        session.execute(text("UPDATE audit_event SET entity_id = 'p999' WHERE id = :id"), {"id": rows[1].id})
    since = rows[5].at.replace(tzinfo=None).isoformat()
    result = runner.invoke(app, ["audit", "verify", "--since", since, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"] == 5
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 1  # the whole chain still tells
    assert runner.invoke(app, ["audit", "verify", "--since", "last tuesday"]).exit_code == 2


def test_seal_command_seals_and_publishes_a_checkpoint(session: Session, checkpoint_file: Path) -> None:
    write_rows(session, 3)
    result = runner.invoke(app, ["audit", "seal", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"sealed": 3, "head": 3, "busy": False, "stale_key": False, "checkpoint": True}
    assert json.loads(checkpoint_file.read_text())["seq"] == 3
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
