"""ASGI middleware shared by both faces: request ids, body limits, access logs and metrics."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.kit.context import current_request_id

access_log = logging.getLogger("tandem.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

REQUESTS = Counter("tandem_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("tandem_http_request_seconds", "HTTP request duration", ["method", "route"])


class BodyTooLarge(Exception):
    pass


class RequestContextMiddleware:
    """Give every request an id (kept in audit rows and logs), cap body size, log without content.

    Logs and metrics carry the route template (``/api/v1/sessions/{id}/messages``), never the
    query string or body, so no client text or secret reaches them.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        supplied = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if _SAFE_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        status_holder: dict[str, int] = {"status": 500}

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(send, request_id)
            current_request_id.reset(token)
            self._observe(scope, 413, started, request_id)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except BodyTooLarge:
            status_holder["status"] = 413
            await self._too_large(send, request_id)
        finally:
            current_request_id.reset(token)
            self._observe(scope, status_holder["status"], started, request_id)

    async def _too_large(self, send: Send, request_id: str) -> None:
        body = json.dumps({"detail": f"request body is larger than {self.max_body_bytes} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _observe(scope: Scope, status: int, started: float, request_id: str) -> None:
        route = _route_template(scope)
        elapsed = time.perf_counter() - started
        REQUESTS.labels(scope["method"], route, str(status)).inc()
        LATENCY.labels(scope["method"], route).observe(elapsed)
        access_log.info("%s %s %s %.1fms request_id=%s", scope["method"], route, status, elapsed * 1000, request_id)


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if path is None:
        return "unmatched"
    return scope.get("root_path", "") + path
