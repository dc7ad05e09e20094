"""A stand-in Web Push service on loopback (RFC 8030): keeps each push message it receives."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class PushMessage:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    base: str
    received: list[PushMessage] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)  # paths answered 410 Gone (the browser unsubscribed)


@contextmanager
def push_service() -> Iterator[PushService]:
    state = PushService(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.received.append(PushMessage(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = 410 if self.path in state.gone else 201
            self.send_response(status)
            if status == 201:
                self.send_header("Location", f"{state.base}/message/{len(state.received)}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
