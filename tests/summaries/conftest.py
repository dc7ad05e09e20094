"""Fixtures of the summary tests: a clinic in each language and a patient with weeks of history."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import Session

from tests.factories import ClinicSetup, active_patient, create_clinic
from tests.summaries.history import Story, seed_story

CLINICS = {
    "en": {"locale": "en", "country": "US", "timezone": "America/New_York"},
    "fr": {"locale": "fr", "country": "FR", "timezone": "Europe/Paris"},
}


@dataclass
class Seeded:
    setup: ClinicSetup
    story: Story


def seeded(session: Session, lang: str, *, slug: str = "summary-clinic") -> Seeded:
    setup = create_clinic(session, name=f"Clinique {lang}", slug=f"{slug}-{lang}", **CLINICS[lang])
    patient, _ = active_patient(session, setup, name="Zoé Lefèvre", email=f"zoe-{lang}@example.org")
    return Seeded(setup, seed_story(session, patient, clinician=setup.clinician))


@pytest.fixture(params=["en", "fr"])
def history(request: pytest.FixtureRequest, session: Session) -> Seeded:
    return seeded(session, request.param)


@pytest.fixture
def english(session: Session) -> Seeded:
    return seeded(session, "en")


@pytest.fixture
def french(session: Session) -> Seeded:
    return seeded(session, "fr")
