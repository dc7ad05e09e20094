"""Clinics with a patient and an assigned exercise, and a client that talks to the guide over the API."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import get_settings
from service.exercises.assignments import create_assignment
from service.models import Assignment, Patient
from tests.exercises.coach.llm_server import ChatCompletionServer
from tests.factories import ClinicSetup, active_patient, bearer, create_clinic

# A thought record a client might write, answer by answer, in each language.
THOUGHT_RECORD = {
    "en": [
        "At work, my manager pointed out a mistake in my report in front of the team.",
        "anxious 80, ashamed 60",
        "Everyone thinks I'm incompetent.",
        "She pointed out one mistake in front of everyone.",
        "Two colleagues asked me for help this week, and my last review was good.",
        "I made one mistake in a long report, and people still trust my work.",
        "anxious 40, ashamed 20",
    ],
    "fr": [
        "Au travail, ma responsable a relevé une erreur dans mon rapport devant l'équipe.",
        "anxieux 80, honteux 60",
        "Tout le monde pense que je suis incompétent.",
        "Elle a relevé une erreur devant tout le monde.",
        "Deux collègues m'ont demandé de l'aide cette semaine, et mon dernier entretien était bon.",
        "J'ai fait une erreur dans un long rapport, et on fait toujours confiance à mon travail.",
        "anxieux 40, honteux 20",
    ],
}
BALANCED = {lang: answers[5] for lang, answers in THOUGHT_RECORD.items()}
CRISIS_MESSAGE = "I've decided to kill myself tonight"


@dataclasses.dataclass
class Enrolled:
    setup: ClinicSetup
    patient: Patient
    tokens: dict[str, object]

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.tokens)


def enrol(
    session: Session, *, locale: str = "en", country: str = "US", email: str = "pat@example.org", slug: str = "one"
) -> Enrolled:
    """A clinic in the patient's language and country, and an activated patient in it."""
    setup = create_clinic(session, name=f"Clinic {slug}", locale=locale, country=country, slug=slug)
    patient, tokens = active_patient(session, setup, email=email, locale=locale, country=country)
    return Enrolled(setup, patient, tokens)


def assign(session: Session, enrolled: Enrolled, code: str = "thought_record", **options: Any) -> Assignment:
    return create_assignment(
        session, staff=enrolled.setup.clinician, patient_id=enrolled.patient.id, exercise_code=code, **options
    )


def start(client: TestClient, enrolled: Enrolled, assignment_id: str) -> dict[str, Any]:
    response = client.post(f"/api/v1/assignments/{assignment_id}/sessions", headers=enrolled.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def say(client: TestClient, enrolled: Enrolled, session_id: str, text: str) -> dict[str, Any]:
    response = client.post(f"/api/v1/sessions/{session_id}/messages", json={"text": text}, headers=enrolled.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
def llm_server() -> Iterator[ChatCompletionServer]:
    server = ChatCompletionServer().start()
    yield server
    server.stop()


@pytest.fixture
def llm_engine(llm_server: ChatCompletionServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatCompletionServer]:
    """This deployment's coach is the LLM engine, talking to the loopback chat-completions server."""
    monkeypatch.setenv("TANDEM_LLM_BASE_URL", llm_server.base_url)
    monkeypatch.setenv("TANDEM_LLM_API_KEY", "test-key")
    monkeypatch.setenv("TANDEM_LLM_MODEL", "tandem-test")
    monkeypatch.setenv("TANDEM_LLM_TIMEOUT_SECONDS", "2")
    get_settings.cache_clear()
    yield llm_server
    get_settings.cache_clear()
