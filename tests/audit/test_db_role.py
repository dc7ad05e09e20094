"""The PostgreSQL roles the README documents: the app may only INSERT and SELECT audit rows; the
sealer may also set a row's seal once. Runs on PostgreSQL only (roles do not exist in SQLite)."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session

README_ROLE_SQL = """
CREATE ROLE {app} NOLOGIN
GRANT USAGE ON SCHEMA public TO {app}
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {app}
REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM {app}
CREATE ROLE {sealer} NOLOGIN IN ROLE {app}
GRANT UPDATE (seq, prev_hash, hash, key_id) ON audit_event TO {sealer}
"""
ROW = "INSERT INTO audit_event (at, actor_type, action, detail) VALUES (now(), 'system', 'patient.view', '{}')"


def test_the_app_role_may_only_insert_and_read_audit_rows(session: Session, database_url: str) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("database roles are a PostgreSQL feature")
    suffix = uuid.uuid4().hex[:8]
    app, sealer = f"tandem_app_{suffix}", f"tandem_sealer_{suffix}"
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:

        def attempt(role: str, sql: str) -> bool:
            try:
                with conn.transaction():
                    conn.execute(f"SET LOCAL ROLE {role}")
                    conn.execute(sql)  # type: ignore[arg-type]
            except psycopg.errors.InsufficientPrivilege:
                return False
            return True

        try:
            for statement in README_ROLE_SQL.format(app=app, sealer=sealer).strip().splitlines():
                conn.execute(statement)  # type: ignore[arg-type]
            assert attempt(app, ROW) and attempt(app, ROW)
            assert attempt(app, "SELECT * FROM audit_event")
            assert not attempt(app, "UPDATE audit_event SET action = 'x'")
            assert not attempt(app, "UPDATE audit_event SET seq = 1, prev_hash = 'p', hash = 'h' WHERE id = 1")
            assert not attempt(app, "DELETE FROM audit_event")
            assert not attempt(app, "TRUNCATE audit_event")
            assert attempt(sealer, "UPDATE audit_event SET seq = 1, prev_hash = 'p', hash = 'h' WHERE id = 1")
            assert not attempt(sealer, "UPDATE audit_event SET seq = 9, prev_hash = 'p', hash = 'x' WHERE id = 1")
            assert not attempt(sealer, "UPDATE audit_event SET action = 'x', seq = 2, hash = 'h' WHERE id = 2")
            assert not attempt(sealer, "DELETE FROM audit_event")
        finally:
            conn.execute(f"DROP OWNED BY {sealer}")  # type: ignore[arg-type]
            conn.execute(f"DROP ROLE IF EXISTS {sealer}")  # type: ignore[arg-type]
            conn.execute(f"DROP OWNED BY {app}")  # type: ignore[arg-type]
            conn.execute(f"DROP ROLE IF EXISTS {app}")  # type: ignore[arg-type]
