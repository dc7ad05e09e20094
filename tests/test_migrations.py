from __future__ import annotations

from sqlalchemy import inspect

from service.db import get_engine
from service.models.migrate import current_revision, heads, pending_model_changes


def test_migrations_form_one_linear_history() -> None:
    assert len(heads()) == 1


def test_migrations_apply_from_empty_and_match_the_models(database_url: str) -> None:
    engine = get_engine()
    assert current_revision(engine) == heads()[0]
    assert pending_model_changes(engine) == []
    tables = set(inspect(engine).get_table_names())
    assert {"clinic", "staff", "patient", "invitation", "consentrecord", "refresh_token", "audit_event"} <= tables


def test_the_postgres_run_really_uses_postgres(database_url: str, pytestconfig) -> None:  # type: ignore[no-untyped-def]
    expected = "postgresql" if pytestconfig.getoption("--require-postgres") else get_engine().dialect.name
    assert get_engine().dialect.name == expected
