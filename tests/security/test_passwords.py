"""Password hashing cost: full argon2id cost in service, argon2's cheapest parameters in the test suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import extract_parameters, profiles
from sqlmodel import Session

from service.config import get_settings
from service.security import client_sessions, staff_auth
from service.security.passwords import hash_password, verify_password
from tests.factories import CLIENT_PASSWORD, active_patient, create_clinic


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """These tests change the hashing setting; no other test may see the change."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def standard_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment's hashing: what every environment but the test suite uses."""
    monkeypatch.setenv("TANDEM_PASSWORD_HASHING", "standard")
    get_settings.cache_clear()


def test_a_deployment_hashes_with_argon2id_at_the_recommended_cost(standard_hashing: None) -> None:
    hashed = hash_password("violet-harbour-compass-71")
    assert hashed.startswith("$argon2id$")
    assert extract_parameters(hashed) == profiles.RFC_9106_LOW_MEMORY
    assert verify_password(hashed, "violet-harbour-compass-71")
    assert not verify_password(hashed, "violet-harbour-compass-72")
    assert not verify_password(None, "violet-harbour-compass-71")


def test_the_test_suite_hashes_with_argon2s_cheapest_parameters() -> None:
    hashed = hash_password("violet-harbour-compass-71")
    assert extract_parameters(hashed) == profiles.CHEAPEST
    assert verify_password(hashed, "violet-harbour-compass-71")
    assert not verify_password(hashed, "violet-harbour-compass-72")
    assert not verify_password(None, "violet-harbour-compass-71")


def test_cheap_hashes_are_brought_to_full_cost_at_the_next_sign_in(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = create_clinic(session)
    patient, _ = active_patient(session, setup)
    assert extract_parameters(setup.admin.password_hash or "") == profiles.CHEAPEST
    assert extract_parameters(patient.password_hash or "") == profiles.CHEAPEST

    monkeypatch.setenv("TANDEM_PASSWORD_HASHING", "standard")
    get_settings.cache_clear()
    staff_auth.password_login(session, email=setup.admin.email, password=setup.admin_password)
    client_sessions.login(session, email="pat@example.org", password=CLIENT_PASSWORD)

    session.refresh(setup.admin)
    session.refresh(patient)
    assert extract_parameters(setup.admin.password_hash or "") == profiles.RFC_9106_LOW_MEMORY
    assert extract_parameters(patient.password_hash or "") == profiles.RFC_9106_LOW_MEMORY
    assert verify_password(setup.admin.password_hash, setup.admin_password)
    assert verify_password(patient.password_hash, CLIENT_PASSWORD)
