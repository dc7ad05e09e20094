from __future__ import annotations

import base64
import os

import pytest
from pydantic import ValidationError

from service.config import Settings


def test_prod_refuses_to_start_with_development_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_ENV", "prod")
    monkeypatch.delenv("TANDEM_SECRET_KEY", raising=False)
    monkeypatch.delenv("TANDEM_ENCRYPTION_KEYS", raising=False)
    with pytest.raises(ValidationError) as info:
        Settings()
    message = str(info.value)
    assert "TANDEM_SECRET_KEY" in message and "TANDEM_ENCRYPTION_KEYS" in message


def test_prod_refuses_a_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_ENV", "prod")
    monkeypatch.setenv("TANDEM_SECRET_KEY", "short")
    monkeypatch.setenv("TANDEM_ENCRYPTION_KEYS", "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode())
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings()


def test_prod_refuses_an_encryption_key_of_the_wrong_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_ENV", "prod")
    monkeypatch.setenv("TANDEM_SECRET_KEY", "x" * 48)
    monkeypatch.setenv("TANDEM_ENCRYPTION_KEYS", "k1:" + base64.urlsafe_b64encode(os.urandom(16)).decode())
    with pytest.raises(ValidationError, match="must be 32 bytes"):
        Settings()


def test_prod_starts_with_strong_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_ENV", "prod")
    monkeypatch.setenv("TANDEM_SECRET_KEY", base64.urlsafe_b64encode(os.urandom(40)).decode())
    monkeypatch.setenv("TANDEM_ENCRYPTION_KEYS", "k2:" + base64.urlsafe_b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("TANDEM_AUDIT_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    settings = Settings()
    assert list(settings.key_ring()) == ["k2"]


def test_postgres_urls_use_psycopg3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DATABASE_URL", "postgresql://u@db:5432/tandem")
    assert Settings().database_url == "postgresql+psycopg://u@db:5432/tandem"
