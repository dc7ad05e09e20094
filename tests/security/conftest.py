"""A clinic with one active client, for the security tests of the client API and the portal."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import Patient
from tests.factories import ClinicSetup, active_patient, bearer, create_clinic
from tests.portal.conftest import Portal


@dataclass
class Client:
    setup: ClinicSetup
    patient: Patient
    tokens: dict[str, object]
    email: str = "pat@example.org"

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.tokens)


@pytest.fixture
def clinic(session: Session) -> ClinicSetup:
    return create_clinic(session)


@pytest.fixture
def me(session: Session, clinic: ClinicSetup) -> Client:
    patient, tokens = active_patient(session, clinic)
    return Client(clinic, patient, tokens)


@pytest.fixture
def portal(client: TestClient) -> Portal:
    return Portal(client)
