"""The audit key lives outside the database; production refuses a missing or weak one."""

from __future__ import annotations

import base64
import os

import pytest
from pydantic import ValidationError

from service.audit.keys import audit_keys
from service.config import Settings


def _prod(monkeypatch: pytest.MonkeyPatch, audit_key: str | None) -> None:
    monkeypatch.setenv("TANDEM_ENV", "prod")
    monkeypatch.setenv("TANDEM_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("TANDEM_ENCRYPTION_KEYS", "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode())
    monkeypatch.delenv("TANDEM_PASSWORD_HASHING", raising=False)  # the test suite's cheap hashing
    if audit_key is None:
        monkeypatch.delenv("TANDEM_AUDIT_KEY", raising=False)
    else:
        monkeypatch.setenv("TANDEM_AUDIT_KEY", audit_key)


@pytest.mark.parametrize("weak", [None, "short", "s" * 48])
def test_prod_refuses_a_missing_short_or_reused_audit_key(monkeypatch: pytest.MonkeyPatch, weak: str | None) -> None:
    _prod(monkeypatch, weak)
    with pytest.raises(ValidationError, match="TANDEM_AUDIT_KEY"):
        Settings()


def test_prod_starts_with_its_own_audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    _prod(monkeypatch, base64.urlsafe_b64encode(os.urandom(32)).decode())
    assert Settings().audit_key


def test_outside_prod_the_key_is_derived_from_the_secret_key_and_differs_per_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TANDEM_AUDIT_KEY", raising=False)
    one = audit_keys(Settings(secret_key="a" * 40))
    two = audit_keys(Settings(secret_key="b" * 40))
    assert one.chain != two.chain and one.key_id != two.key_id
    assert audit_keys(Settings(secret_key="a" * 40)).key_id == one.key_id
    assert one.chain != ("a" * 40).encode()


def test_checkpoints_default_to_a_file_named_after_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from service.audit.checkpoints import checkpoint_path

    monkeypatch.delenv("TANDEM_AUDIT_CHECKPOINT_PATH", raising=False)
    assert checkpoint_path(Settings(database_url="sqlite:////srv/clinic/tandem.db")) == Path(
        "/srv/clinic/tandem.audit-checkpoints.jsonl"
    )
    one = checkpoint_path(Settings(database_url="postgresql://u@db:5432/riverside"))
    two = checkpoint_path(Settings(database_url="postgresql://u@db:5432/hillside"))
    assert one.name == "audit-checkpoints-db-5432-riverside.jsonl" and one != two
    assert checkpoint_path(Settings(audit_checkpoint_path=Path("/var/log/cp.jsonl"))) == Path("/var/log/cp.jsonl")


def test_prod_refuses_a_short_retired_audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    _prod(monkeypatch, base64.urlsafe_b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("TANDEM_AUDIT_RETIRED_KEYS", "short")
    with pytest.raises(ValidationError, match="TANDEM_AUDIT_RETIRED_KEYS"):
        Settings()
