"""A deployment with a language model: its words are used when safe, and never reach the client when not."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.config import get_settings
from service.exercises import review as exercise_review
from service.exercises import sessions
from service.exercises.catalog import get_exercise
from service.exercises.coach import LLMCoach, ScriptedCoach
from service.models import AuditEvent, ExerciseMessage
from tests.exercises.coach.llm_server import ChatCompletionServer
from tests.exercises.conftest import CRISIS_MESSAGE, THOUGHT_RECORD, assign, enrol, say, start

SITUATION = THOUGHT_RECORD["en"][0]
NEXT_PROMPT = get_exercise("thought_record").steps[1].prompt.en


def _begin(client: TestClient, session: Session) -> tuple:
    enrolled = enrol(session)
    opened = start(client, enrolled, assign(session, enrolled).id)
    return enrolled, opened


def test_settings_choose_the_engine_of_the_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    monkeypatch.delenv("TANDEM_LLM_BASE_URL", raising=False)
    assert sessions.llm_settings() is None
    assert isinstance(sessions.coach_engine(), ScriptedCoach)
    monkeypatch.setenv("TANDEM_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("TANDEM_LLM_API_KEY", "k")
    monkeypatch.setenv("TANDEM_LLM_MODEL", "m")
    monkeypatch.setenv("TANDEM_LLM_TIMEOUT_SECONDS", "3.5")
    get_settings.cache_clear()
    try:
        settings = sessions.llm_settings()
        assert settings is not None
        assert (settings.base_url, settings.api_key, settings.model, settings.timeout_seconds) == (
            "http://127.0.0.1:9/v1",
            "k",
            "m",
            3.5,
        )
        assert isinstance(sessions.coach_engine(), LLMCoach)
    finally:
        get_settings.cache_clear()


def test_a_safe_model_reply_is_used_and_the_scripted_prompt_follows(
    client: TestClient, session: Session, llm_engine: ChatCompletionServer
) -> None:
    enrolled, opened = _begin(client, session)
    assert "automated guide, not a person or a therapist" in opened["message"]  # the disclosure stays scripted
    llm_engine.answer("That sounds like a hard moment in front of your whole team.")
    reply = say(client, enrolled, opened["session_id"], SITUATION)
    assert reply["message"] == f"That sounds like a hard moment in front of your whole team.\n\n{NEXT_PROMPT}"
    [request] = llm_engine.requests
    assert request.body["model"] == "tandem-test" and request.body["messages"][-1]["content"] == SITUATION
    line = session.exec(select(ExerciseMessage).where(ExerciseMessage.role == "coach")).all()[-1]
    assert (line.engine, line.fallback_reason, line.guardrail_reasons) == ("llm", None, [])
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "exercise_session.coach_fallback")).all() == []


@pytest.mark.parametrize(
    ("unsafe", "reason"),
    [
        ("You have depression, and that is why you feel this way.", "diagnosis"),
        ("You could increase your dose of sertraline to 100 mg.", "medication"),
        ("I am a human therapist, and I understand completely.", "human_claim"),
    ],
)
def test_unsafe_model_output_never_reaches_the_client_and_the_fallback_is_recorded(
    client: TestClient, session: Session, llm_engine: ChatCompletionServer, unsafe: str, reason: str
) -> None:
    enrolled, opened = _begin(client, session)
    llm_engine.answer(unsafe)
    reply = say(client, enrolled, opened["session_id"], SITUATION)
    assert unsafe not in reply["message"]
    for word in ("depression", "sertraline", "mg", "human therapist"):
        assert word not in reply["message"]
    assert reply["message"].endswith(NEXT_PROMPT) and reply["status"] == "in_progress"

    line = session.exec(select(ExerciseMessage).where(ExerciseMessage.role == "coach")).all()[-1]
    assert line.engine == "scripted" and line.fallback_reason.startswith("guardrail:")
    assert reason in line.guardrail_reasons
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "exercise_session.coach_fallback")).one()
    assert event.detail["message_id"] == line.id and reason in event.detail["guardrails"]
    assert unsafe not in str(event.detail) and "manager" not in str(event.detail)
    detail = exercise_review.session_detail(session, staff=enrolled.setup.clinician, session_id=opened["session_id"])
    assert detail.transcript[-1].fallback_reason == line.fallback_reason
    assert all(unsafe not in t.text for t in detail.transcript)


def test_a_model_that_fails_falls_back_to_the_scripted_reply(
    client: TestClient, session: Session, llm_engine: ChatCompletionServer
) -> None:
    enrolled, opened = _begin(client, session)
    llm_engine.fail(503)
    reply = say(client, enrolled, opened["session_id"], SITUATION)
    assert reply["message"].endswith(NEXT_PROMPT)
    line = session.exec(select(ExerciseMessage).where(ExerciseMessage.role == "coach")).all()[-1]
    assert (line.engine, line.fallback_reason, line.guardrail_reasons) == ("scripted", "http_status:503", [])


def test_a_crisis_message_is_never_sent_to_the_model(
    client: TestClient, session: Session, llm_engine: ChatCompletionServer
) -> None:
    enrolled, opened = _begin(client, session)
    reply = say(client, enrolled, opened["session_id"], CRISIS_MESSAGE)
    assert reply["status"] == "stopped_for_safety" and reply["crisis"] is not None
    assert llm_engine.requests == []


def test_a_french_client_never_reads_a_model_reply_claiming_to_be_a_psychologist(
    client: TestClient, session: Session, llm_engine: ChatCompletionServer
) -> None:
    enrolled = enrol(session, locale="fr", country="FR")
    opened = start(client, enrolled, assign(session, enrolled).id)
    llm_engine.answer("En tant que psychologue, je comprends.")
    reply = say(client, enrolled, opened["session_id"], THOUGHT_RECORD["fr"][0])
    assert "psychologue" not in reply["message"]
    assert reply["message"].endswith(get_exercise("thought_record").steps[1].prompt.fr)
