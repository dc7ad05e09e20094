"""Fixtures shared by the check-in and questionnaire tests: a movable clock and a signed-in client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from service.kit import timing
from service.models import Patient
from service.models.base import utcnow
from tests.factories import active_patient, bearer, create_clinic


@dataclass
class Clock:
    """The time check-ins and questionnaires see; starts at the real time and moves only when told."""

    now: datetime

    def set(self, moment: datetime) -> None:
        self.now = moment

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    current = Clock(utcnow())
    monkeypatch.setattr(timing, "utcnow", lambda: current.now)
    return current


@dataclass
class SignedIn:
    patient: Patient
    headers: dict[str, str]


@pytest.fixture
def sign_in(session: Session) -> Callable[..., SignedIn]:
    """Make an active client (in a clinic of their own) and return them with their auth headers."""
    made = 0

    def make(
        *,
        locale: str = "en",
        country: str = "US",
        timezone: str = "America/New_York",
        activated_at: datetime | None = None,
    ) -> SignedIn:
        nonlocal made
        made += 1
        setup = create_clinic(
            session, name=f"Clinic {made}", locale=locale, country=country, timezone=timezone, slug=f"clinic-{made}"
        )
        patient, tokens = active_patient(session, setup, email=f"client{made}@example.org")
        if activated_at is not None:
            # Tests that date check-ins in the past need an account that existed then.
            patient.activated_at = activated_at
            session.add(patient)
            session.commit()
        return SignedIn(patient, bearer(tokens))

    return make
