"""The LLM coach: the scripted coach, with the acknowledgement phrased by a language model.

Any OpenAI-compatible chat-completions endpoint will do. The scripted coach still reads every
answer and moves through the steps, so the model can never corrupt a session's state; the model
only writes a short acknowledgement, which must pass the output guardrails. Timeouts, HTTP errors,
malformed responses and rejected text all fall back to the scripted reply, with the reason in
``CoachReply.fallback_reason`` for the caller to record.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
from typing import Any

import httpx

from service.exercises.answers import describe_expected
from service.exercises.coach.engine import CoachContext, CoachReply
from service.exercises.coach.guardrails import check_output
from service.exercises.coach.scripted import ScriptedCoach, ScriptedTurn
from service.exercises.coach.texts import data_file, render

logger = logging.getLogger(__name__)

# A chat completion of a few hundred tokens is a few kilobytes; anything far bigger is not one.
MAX_RESPONSE_BYTES = 256 * 1024
# The client's message as the model sees it; the scripted coach has already read the whole of it.
MAX_CLIENT_CHARS = 2000


@dataclasses.dataclass(frozen=True)
class LLMSettings:
    base_url: str  # e.g. "https://api.openai.com/v1"; the engine posts to {base_url}/chat/completions
    api_key: str = dataclasses.field(repr=False)
    model: str
    timeout_seconds: float = 8.0  # for the whole exchange, not for each network read
    max_tokens: int = 300
    temperature: float = 0.3


class LLMUnavailable(Exception):
    """No usable text came back; ``reason`` says why, in a short code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LLMCoach:
    name = "llm"

    def __init__(
        self,
        settings: LLMSettings,
        *,
        scripted: ScriptedCoach | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.settings = settings
        self._scripted = scripted or ScriptedCoach()
        self._http = http or httpx.Client(timeout=httpx.Timeout(settings.timeout_seconds))
        self._url = settings.base_url.rstrip("/") + "/chat/completions"

    def close(self) -> None:
        self._http.close()

    def opening(self, ctx: CoachContext) -> CoachReply:
        # The opening is the safety disclosure: it must be word for word, so it stays scripted.
        return self._scripted.opening(ctx)

    def reply(self, ctx: CoachContext, message: str) -> CoachReply:
        turn = self._scripted.turn(ctx, message)
        if turn.outcome == "finished" or turn.turn not in _REPHRASED:
            # Disclosures, medication questions, stops and the like keep their scripted words.
            return turn.as_reply(self._scripted.name)
        try:
            text = self.complete(self.briefing(ctx, message, turn))
        except LLMUnavailable as exc:
            return self._fall_back(ctx, turn, exc.reason)
        verdict = check_output(text, ctx, client=message, turn=turn.turn)
        if not verdict.ok:
            return self._fall_back(ctx, turn, "guardrail:" + ",".join(verdict.reasons))
        return turn.as_reply(self.name, acknowledgement=text)

    def briefing(self, ctx: CoachContext, message: str, turn: ScriptedTurn) -> list[dict[str, str]]:
        """The chat messages sent to the model: the role and its limits, the exercise, the step and
        what it needs; then the prompt the client answered and the client's message."""
        data = data_file("llm.toml")
        step = ctx.current_step
        progress_key = {"accepted": "progress_accepted", "waiting": "progress_waiting"}.get(
            turn.outcome, "progress_reask"
        )
        asked = self._scripted.prompt(ctx)
        system = render(
            data["system_prompt"],
            {
                "title": ctx.exercise.title.text(ctx.lang),
                "summary": ctx.exercise.summary.text(ctx.lang),
                "step_prompt": asked,
                "expected": describe_expected(step, ctx.lang) if step else "",
                "progress": render(data[progress_key], {"next": turn.guidance}),
                "language": data["language"][ctx.lang],
                "register": data["register"][ctx.lang],
                "max_sentences": str(data["max_sentences"]),
                "draft": turn.acknowledgement,
            },
        )
        return [
            {"role": "system", "content": system},
            {"role": "assistant", "content": asked},
            {"role": "user", "content": message[:MAX_CLIENT_CHARS]},
        ]

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The model's text for ``messages``, or LLMUnavailable."""
        settings = self.settings
        payload = {
            "model": settings.model,
            "messages": messages,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "stream": False,
        }
        headers = {"Authorization": f"Bearer {settings.api_key}", "Accept": "application/json"}
        deadline = time.monotonic() + settings.timeout_seconds
        try:
            with self._http.stream("POST", self._url, json=payload, headers=headers) as response:
                if response.status_code != 200:
                    raise LLMUnavailable(f"http_status:{response.status_code}")
                body = _read_until(response, deadline)
        except httpx.TimeoutException as exc:
            raise LLMUnavailable("timeout") from exc
        except httpx.HTTPError as exc:
            raise LLMUnavailable("http_error") from exc
        return _completion_text(body)

    def _fall_back(self, ctx: CoachContext, turn: ScriptedTurn, reason: str) -> CoachReply:
        # Ids and reason codes only: never the client's words nor the model's.
        logger.warning(
            "coach LLM reply not used, scripted reply sent instead",
            extra={"exercise": ctx.exercise.code, "step_index": ctx.step_index, "reason": reason},
        )
        return turn.as_reply(self._scripted.name, fallback_reason=reason)


def _read_until(response: httpx.Response, deadline: float) -> bytes:
    """The body, unless it is too big or arrives after the deadline (a slow trickle of bytes
    would otherwise never trip a per-read timeout)."""
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            raise LLMUnavailable("malformed_response")
        if time.monotonic() > deadline:
            raise LLMUnavailable("timeout")
    return bytes(body)


# The turns whose acknowledgement a model may phrase: answers to the step.
_REPHRASED = frozenset({"answer", "round_done"})
_REASONING = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_QUOTES = '"“”«»'


def _completion_text(body: bytes) -> str:
    try:
        data: Any = json.loads(body)
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LLMUnavailable("malformed_response") from exc
    if not isinstance(content, str):
        raise LLMUnavailable("malformed_response")
    if isinstance(choice, dict) and choice.get("finish_reason") == "length":
        raise LLMUnavailable("truncated_response")  # a sentence cut in the middle is not shown
    # Some models think aloud between <think> tags; the client never sees that.
    text = _REASONING.sub("", content).strip()
    if len(text) > 1 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()  # the whole reply wrapped in quotes, as models sometimes do
    if not text:
        raise LLMUnavailable("empty_response")
    return text
