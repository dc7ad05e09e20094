"""The LLM engine against a real HTTP server on loopback speaking the chat-completions protocol."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from service.exercises.catalog import get_exercise
from service.exercises.coach import CoachContext, LLMCoach, LLMSettings, ScriptedCoach, build_engine
from tests.exercises.coach.conftest import context
from tests.exercises.coach.llm_server import CHAT_PATH, ChatCompletionServer

EMOTIONS_STEP: dict[str, Any] = {
    "step_index": 1,
    "answers": {"situation": "At work, my manager criticised my slides."},
}
scripted = ScriptedCoach()


@pytest.fixture
def coach(llm_server: ChatCompletionServer) -> Iterator[LLMCoach]:
    engine = LLMCoach(_settings(llm_server.base_url))
    yield engine
    engine.close()


def _settings(base_url: str, timeout_seconds: float = 2.0) -> LLMSettings:
    return LLMSettings(base_url=base_url, api_key="test-key", model="tandem-test", timeout_seconds=timeout_seconds)


def _ctx(locale: str = "en") -> CoachContext:
    return context(locale=locale, **EMOTIONS_STEP)


def _assert_scripted_fallback(reply, ctx: CoachContext, message: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    expected = scripted.reply(ctx, message)
    assert reply.engine == "scripted"
    assert reply.fallback_reason == reason
    assert reply.message == expected.message
    assert (reply.step_index, reply.answers, reply.done) == (
        expected.step_index,
        expected.answers,
        expected.done,
    )


# ---------------------------------------------------------------- a normal answer


def test_llm_writes_the_acknowledgement_and_the_scripted_prompt_follows(
    coach: LLMCoach, llm_server: ChatCompletionServer
) -> None:
    llm_server.answer("It makes sense that criticism in front of others stirred up strong feelings.")
    reply = coach.reply(_ctx(), "anxious 80, ashamed 60")
    next_prompt = get_exercise("thought_record").steps[2].prompt.en
    assert reply.engine == "llm" and reply.fallback_reason is None
    assert reply.message == (
        f"It makes sense that criticism in front of others stirred up strong feelings.\n\n{next_prompt}"
    )
    expected = scripted.reply(_ctx(), "anxious 80, ashamed 60")
    assert (reply.step_index, reply.answers, reply.done) == (
        expected.step_index,
        expected.answers,
        expected.done,
    )


def test_request_is_a_chat_completion_with_bearer_key_model_and_the_step_in_the_system_prompt(
    coach: LLMCoach, llm_server: ChatCompletionServer
) -> None:
    coach.reply(_ctx(), "anxious 80, ashamed 60")
    [request] = llm_server.requests
    assert request.path == CHAT_PATH
    assert request.headers["Authorization"] == "Bearer test-key"
    body = request.body
    assert body["model"] == "tandem-test" and body["max_tokens"] == 300 and body["stream"] is False
    system, asked, client = body["messages"]
    assert system["role"] == "system"
    assert "not a therapist, a doctor or a person" in system["content"]
    assert "Never diagnose" in system["content"] and "never mention medication" in system["content"]
    assert "The exercise: Thought record." in system["content"]
    assert get_exercise("thought_record").steps[1].prompt.en in system["content"]
    assert "each emotion with a number from 0 to 100" in system["content"]
    assert asked == {"role": "assistant", "content": get_exercise("thought_record").steps[1].prompt.en}
    assert client == {"role": "user", "content": "anxious 80, ashamed 60"}


def test_french_sessions_ask_for_french_with_vous(coach: LLMCoach, llm_server: ChatCompletionServer) -> None:
    llm_server.answer("Merci d'avoir nommé ces émotions, c'est une étape importante.")
    reply = coach.reply(_ctx("fr"), "anxieux 80, honteux 60")
    assert reply.engine == "llm"
    assert (
        "in French, addressing the client formally as « vous »" in llm_server.requests[0].body["messages"][0]["content"]
    )


def test_the_model_cannot_move_the_exercise_on(coach: LLMCoach, llm_server: ChatCompletionServer) -> None:
    llm_server.answer("Great, that's all we need. Let's move to the next step.")
    reply = coach.reply(_ctx(), "I don't really know")
    assert reply.engine == "llm"
    assert reply.step_index == 1 and reply.answers == EMOTIONS_STEP["answers"] and not reply.done
    assert reply.message.endswith("for example: anxious 80, sad 60.")


def test_reasoning_between_think_tags_is_never_shown(coach: LLMCoach, llm_server: ChatCompletionServer) -> None:
    llm_server.answer("<think>The client seems upset.</think>Thank you for naming these feelings.")
    reply = coach.reply(_ctx(), "anxious 80")
    assert reply.message.startswith("Thank you for naming these feelings.")
    assert "think" not in reply.message


def test_opening_is_the_scripted_disclosure_without_calling_the_model(
    coach: LLMCoach, llm_server: ChatCompletionServer
) -> None:
    reply = coach.opening(context())
    assert reply == scripted.opening(context())
    assert llm_server.requests == []


# ---------------------------------------------------------------- unsafe answers never reach the client

UNSAFE_ANSWERS = [
    ("diagnosis", "You have depression, which explains these feelings."),
    ("medication", "You might increase your sertraline to 100 mg to feel calmer."),
    ("human_claim", "I'm a human therapist, so I know exactly how this feels."),
    ("self_harm", "Some people in your situation think about hurting themselves."),
    ("contact_details", "Call 555-123-4567 and someone will help."),
]


@pytest.mark.parametrize(("reason", "answer"), UNSAFE_ANSWERS)
def test_unsafe_answer_falls_back_to_the_scripted_reply(
    coach: LLMCoach, llm_server: ChatCompletionServer, reason: str, answer: str
) -> None:
    llm_server.answer(answer)
    reply = coach.reply(_ctx(), "anxious 80, ashamed 60")
    assert answer not in reply.message
    _assert_scripted_fallback(reply, _ctx(), "anxious 80, ashamed 60", f"guardrail:{reason}")


def test_french_diagnosis_falls_back_too(coach: LLMCoach, llm_server: ChatCompletionServer) -> None:
    llm_server.answer("Vous souffrez sans doute d'une dépression.")
    reply = coach.reply(_ctx("fr"), "anxieux 80")
    _assert_scripted_fallback(reply, _ctx("fr"), "anxieux 80", "guardrail:diagnosis")


# ---------------------------------------------------------------- failures fall back with a reason


def test_http_500_falls_back(coach: LLMCoach, llm_server: ChatCompletionServer) -> None:
    llm_server.fail(500)
    _assert_scripted_fallback(coach.reply(_ctx(), "anxious 80"), _ctx(), "anxious 80", "http_status:500")


def test_rejected_key_falls_back(coach: LLMCoach, llm_server: ChatCompletionServer) -> None:
    llm_server.fail(401, b'{"error": {"message": "invalid api key"}}')
    _assert_scripted_fallback(coach.reply(_ctx(), "anxious 80"), _ctx(), "anxious 80", "http_status:401")


@pytest.mark.parametrize(
    "body",
    [
        b"{this is not json",
        b'{"choices": []}',
        b'{"choices": [{"message": {"content": null}}]}',
        b"<html>Bad gateway</html>",
    ],
)
def test_malformed_response_falls_back(coach: LLMCoach, llm_server: ChatCompletionServer, body: bytes) -> None:
    llm_server.send_raw(body)
    _assert_scripted_fallback(coach.reply(_ctx(), "anxious 80"), _ctx(), "anxious 80", "malformed_response")


def test_cut_off_answer_falls_back(coach: LLMCoach, llm_server: ChatCompletionServer) -> None:
    llm_server.answer("Thank you for naming these feelings, it", finish_reason="length")
    _assert_scripted_fallback(coach.reply(_ctx(), "anxious 80"), _ctx(), "anxious 80", "truncated_response")


def test_empty_answer_falls_back(coach: LLMCoach, llm_server: ChatCompletionServer) -> None:
    llm_server.answer("   ")
    _assert_scripted_fallback(coach.reply(_ctx(), "anxious 80"), _ctx(), "anxious 80", "empty_response")


def test_slow_answer_beyond_the_timeout_falls_back_in_time(llm_server: ChatCompletionServer) -> None:
    llm_server.answer_slowly("Thank you.", delay_seconds=5)
    engine = LLMCoach(_settings(llm_server.base_url, timeout_seconds=0.5))
    started = time.monotonic()
    reply = engine.reply(_ctx(), "anxious 80")
    elapsed = time.monotonic() - started
    engine.close()
    _assert_scripted_fallback(reply, _ctx(), "anxious 80", "timeout")
    assert elapsed < 1.5


def test_an_answer_trickling_in_past_the_timeout_falls_back(llm_server: ChatCompletionServer) -> None:
    # Each piece arrives well within the read timeout, but the whole takes far longer than allowed.
    llm_server.trickle("Thank you for naming these feelings.", chunk_delay_seconds=0.2)
    engine = LLMCoach(_settings(llm_server.base_url, timeout_seconds=0.6))
    started = time.monotonic()
    reply = engine.reply(_ctx(), "anxious 80")
    elapsed = time.monotonic() - started
    engine.close()
    _assert_scripted_fallback(reply, _ctx(), "anxious 80", "timeout")
    assert elapsed < 1.5


def test_unreachable_server_falls_back() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = LLMCoach(_settings(f"http://127.0.0.1:{port}/v1"))
    reply = engine.reply(_ctx(), "anxious 80")
    engine.close()
    _assert_scripted_fallback(reply, _ctx(), "anxious 80", "http_error")


def test_the_session_carries_on_after_a_fallback(coach: LLMCoach, llm_server: ChatCompletionServer) -> None:
    llm_server.fail(503)
    first = coach.reply(_ctx(), "anxious 80")
    llm_server.answer("That thought sounds heavy to carry.")
    ctx = CoachContext(get_exercise("thought_record"), "en", first.step_index, first.answers)
    second = coach.reply(ctx, "I'm going to lose my job.")
    assert first.fallback_reason == "http_status:503"
    assert second.engine == "llm" and second.traps[0] == "fortune_telling"
    assert second.message.startswith("That thought sounds heavy to carry.\n\nThis thought may fit")


def test_build_engine_is_scripted_unless_an_llm_is_configured(llm_server: ChatCompletionServer) -> None:
    assert build_engine(None).name == "scripted"
    engine = build_engine(_settings(llm_server.base_url))
    assert engine.name == "llm"
    assert isinstance(engine, LLMCoach)
    engine.close()


def test_settings_never_show_the_api_key() -> None:
    assert "test-key" not in repr(_settings("http://127.0.0.1:1/v1"))
