"""The crisis path stays short: a check-in whose note raises an urgent alert runs a bounded number of
SQL statements (the check-in, its signal, the alert, its history, outbox rows, live events, audit),
so it holds its connection briefly even when the database is slow."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import event

from service.db import get_engine

URL = "/api/v1/checkins"
# The rows of one table go out in one INSERT on both databases, those with integer keys (alert
# history, audit) too (service.db numbers them in order on SQLite).
CRISIS_STATEMENTS = {"postgresql": 12, "sqlite": 12}
ORDINARY_STATEMENTS = 3


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("PRAGMA", "BEGIN", "COMMIT")):
            statements.append(statement.split("\n")[0][:120])

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


# The crisis path reads the patient's care team (clinic, open alerts, clinician, channels, browsers,
# webhook endpoints, safety plan) in one query, upserts its follow-up questionnaire in one statement,
# and reads the client's notes of the last 72 hours (the whole exchange, issue 10) in one more.
def test_a_crisis_check_in_runs_at_most_twelve_statements(client: TestClient, sign_in) -> None:  # type: ignore[no-untyped-def]
    me = sign_in()
    client.post(URL, json={"mood": 5}, headers=me.headers)  # warm caches (the clinic's settings, mappers)
    with counted() as statements:
        answer = client.post(URL, json={"mood": 1, "note": "I want to kill myself tonight."}, headers=me.headers)
    assert answer.status_code == 201 and answer.json()["crisis"] is not None
    dialect = get_engine().dialect.name
    print(f"\ncrisis check-in: {len(statements)} statements on {dialect} (budget {CRISIS_STATEMENTS[dialect]})")
    assert any(s.startswith("SELECT checkin.") for s in statements)  # the notes of the 72 hours before
    # Nothing the crisis path must write is dropped to fit the budget.
    for table in ("checkin", "alert", "alert_signal", "alert_event", "outbox_message", "audit_event"):
        assert any(s.startswith(f"INSERT INTO {table} ") for s in statements), table
    assert len(statements) <= CRISIS_STATEMENTS[dialect], "\n".join(statements)


def test_an_ordinary_check_in_stays_as_short_as_it_was(client: TestClient, sign_in) -> None:  # type: ignore[no-untyped-def]
    me = sign_in()
    client.post(URL, json={"mood": 5}, headers=me.headers)
    with counted() as statements:
        answer = client.post(URL, json={"mood": 6, "note": "A calm day."}, headers=me.headers)
    assert answer.status_code == 201 and answer.json()["crisis"] is None
    assert len(statements) <= ORDINARY_STATEMENTS, "\n".join(statements)
