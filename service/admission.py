"""Admission control: when a worker already has as many requests as it can finish in time, further
requests are answered 503 with Retry-After at once, instead of queueing until they time out as 500s.

A client's words that carry a crisis signal are never turned away. Check-in notes and exercise
messages are screened here, before any wait (screening is pure and takes well under a millisecond);
a request whose text is at moderate risk or above skips the limit, and if anything behind it fails
(the database is down, a pool is exhausted) its answer is a 503 that still carries the crisis lines,
so the client is never left without them. The service answers with the client's own country and
clinic when it can; this is the last resort, in the language the request asked for.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from types import TracebackType
from typing import Any

from anyio import CapacityLimiter
from prometheus_client import Counter, Gauge
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.risk import RiskLevel, screen_text, screenings_remembered
from service.risk.crisis import FALLBACK_COUNTRY, crisis_resources
from service.risk.locales import primary_language

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2
# Threads kept for requests carrying a crisis signal, beside the worker's request threads: such a
# request never queues behind ordinary ones for a thread (the pool keeps connections for them).
CRISIS_THREADS = 4
crisis_request: ContextVar[bool] = ContextVar("tandem_crisis_request", default=False)
# Free text a client writes: the JSON field that holds it, by path.
_SCREENED = (
    (re.compile(r"^/api/v1/checkins/?$"), "note"),
    (re.compile(r"^/api/v1/sessions/[^/]+/messages/?$"), "text"),
)
# Never counted: operators' probes and long-lived live feeds (they hold no thread while idle).
_EXEMPT = re.compile(r"^/(healthz|readyz|metrics)$|^/portal/alerts/stream$")

SHED = Counter("tandem_requests_shed_total", "Requests answered 503 because the worker was saturated")
IN_FLIGHT = Gauge("tandem_requests_in_flight", "Requests admitted and not answered yet")
CRISIS_RESCUED = Counter(
    "tandem_crisis_answers_rescued_total", "Crisis requests whose failure was answered with the crisis lines"
)

BUSY = {
    "en": "The service is busy. Please try again in a moment.",
    "fr": "Le service est très sollicité. Veuillez réessayer dans un instant.",
}
NOT_SAVED = {
    "en": (
        "We could not save this just now, so your care team has not seen it yet. Please try again in a "
        "moment. If you are in danger or think you might act on these thoughts, call one of these numbers now."
    ),
    "fr": (
        "Nous n'avons pas pu enregistrer ceci pour le moment : votre équipe de soin ne l'a donc pas encore vu. "
        "Veuillez réessayer dans un instant. Si vous êtes en danger ou pensez passer à l'acte, appelez dès "
        "maintenant l'un de ces numéros."
    ),
}


def language_of(scope: Scope) -> str:
    """en or fr, from the request's Accept-Language (the first language named)."""
    for name, value in scope.get("headers") or []:
        if name == b"accept-language":
            first = value.decode("latin-1").split(",")[0].split(";")[0].strip()
            lang = primary_language(first) if first else "en"
            return lang if lang in BUSY else "en"
    return "en"


def crisis_fallback(lang: str, country: str | None = None) -> dict[str, Any]:
    """Crisis lines that need no database: the country's when known, else the international ones."""
    resources = crisis_resources(country or FALLBACK_COUNTRY, lang)
    block = resources.to_dict()
    block["care_team_notice"] = NOT_SAVED[resources.locale]
    return block


def screened_level(path: str, body: bytes) -> RiskLevel:
    """The risk level of the client's text in this request, or none when it carries no text."""
    field = next((name for pattern, name in _SCREENED if pattern.match(path)), None)
    if field is None or not body:
        return RiskLevel.NONE
    try:
        data = json.loads(body)
    except ValueError:
        return RiskLevel.NONE
    text = data.get(field) if isinstance(data, dict) else None
    if not isinstance(text, str) or not text.strip():
        return RiskLevel.NONE
    # The patient's language is not known before the database is read: screen in both, keep the higher.
    # Stripped, as the check-in stores and screens its note: the check-in's own screening in the
    # patient's language is then the one remembered here (``screenings_remembered``), not a second.
    return max(screen_text(text.strip()[:20_000], lang).level for lang in ("en", "fr"))


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, *, max_in_flight: int) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _EXEMPT.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST" and any(pattern.match(scope["path"]) for pattern, _ in _SCREENED):
            with screenings_remembered():
                body, more = await _read_body(receive)
                level = screened_level(scope["path"], body)
                await self._admit(scope, _replay(body, more, receive), send, level)
            return
        await self._admit(scope, receive, send, RiskLevel.NONE)

    async def _admit(self, scope: Scope, receive: Receive, send: Send, level: RiskLevel) -> None:
        crisis = level >= RiskLevel.MODERATE
        if self.in_flight >= self.max_in_flight and not crisis:
            SHED.inc()
            await _send_busy(scope, send)
            return
        self.in_flight += 1
        IN_FLIGHT.inc()
        token = crisis_request.set(crisis)
        try:
            if crisis:
                await self._with_crisis_lines(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            crisis_request.reset(token)
            self.in_flight -= 1
            IN_FLIGHT.dec()

    async def _with_crisis_lines(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; should it fail, answer 503 with the crisis lines instead."""
        state: dict[str, Any] = {"failed": False, "replaced": False, "start": None}

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 500:
                state["failed"], state["start"], state["body"] = True, message, b""
                return
            if state["failed"]:
                state["body"] += message.get("body", b"")
                if not message.get("more_body", False):
                    await self._rescue(scope, send, state)
                return
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception:
            if state["replaced"]:
                return  # the client already has its answer with the lines; the error is logged upstream
            log.exception("crisis request failed before answering")
            await self._rescue(scope, send, state)

    async def _rescue(self, scope: Scope, send: Send, state: dict[str, Any]) -> None:
        state["replaced"] = True
        try:
            answered = json.loads(state.get("body") or b"{}")
        except ValueError:
            answered = {}
        if isinstance(answered, dict) and answered.get("crisis"):
            body = answered  # the service already attached the client's own lines
        else:
            lang = language_of(scope)
            body = {"detail": BUSY[lang], "crisis": crisis_fallback(lang)}
        CRISIS_RESCUED.inc()
        await _send_json(send, 503, body)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [message]
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), []


def _replay(body: bytes, rest: list[Message], receive: Receive) -> Receive:
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *rest]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _send_busy(scope: Scope, send: Send) -> None:
    detail = BUSY[language_of(scope)]
    if scope["path"].startswith("/api/"):
        await _send_json(send, 503, {"detail": detail})
    else:
        await _send(send, 503, detail.encode(), b"text/plain; charset=utf-8")


async def _send_json(send: Send, status: int, data: dict[str, Any]) -> None:
    await _send(send, status, json.dumps(data, ensure_ascii=False).encode(), b"application/json")


async def _send(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class CrisisFirstLimiter:
    """The thread limiter of the app's sync routes and dependencies: ordinary requests share the
    worker's request threads; a request carrying a crisis signal runs on threads of its own."""

    def __init__(self, threads: int, crisis_threads: int = CRISIS_THREADS) -> None:
        self.ordinary = CapacityLimiter(threads)
        self.crisis = CapacityLimiter(crisis_threads)

    @property
    def total_tokens(self) -> float:
        return self.ordinary.total_tokens

    @total_tokens.setter
    def total_tokens(self, value: float) -> None:
        self.ordinary.total_tokens = value

    def _limiter(self) -> CapacityLimiter:
        return self.crisis if crisis_request.get() else self.ordinary

    async def __aenter__(self) -> None:
        await self._limiter().acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._limiter().release()


def install_thread_limiter(threads: int) -> None:
    """Make the running event loop's default thread limiter a CrisisFirstLimiter (``threads``
    ordinary threads). anyio keeps that limiter in a run variable of its asyncio backend; should a
    future anyio move it, requests keep a plain limiter of ``threads`` and lose only the priority."""
    import anyio.to_thread

    try:
        from anyio._backends._asyncio import _default_thread_limiter

        _default_thread_limiter.set(CrisisFirstLimiter(threads))  # type: ignore[arg-type]
    except (ImportError, AttributeError):  # pragma: no cover - depends on anyio's internals
        log.warning("crisis requests get no threads of their own with this anyio")
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
