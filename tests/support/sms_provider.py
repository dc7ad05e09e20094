"""A stand-in for Twilio's Messages API on loopback: POST /2010-04-01/Accounts/{sid}/Messages.json
with HTTP Basic auth and form fields To, From, Body; answers 201 with the message resource."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

SID = "AC" + "0" * 32
TOKEN = "test-auth-token"


@dataclass
class SmsProvider:
    base: str
    sent: list[dict[str, str]] = field(default_factory=list)
    refusing: bool = False


@contextmanager
def sms_provider() -> Iterator[SmsProvider]:
    state = SmsProvider(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
            if (
                self.path != f"/2010-04-01/Accounts/{SID}/Messages.json"
                or self.headers.get("Authorization") != expected
            ):
                self._answer(401, {"code": 20003, "message": "Authenticate"})
                return
            if state.refusing:
                self._answer(503, {"message": "unavailable"})
                return
            form = {k: v[0] for k, v in parse_qs(body).items()}
            state.sent.append(form)
            self._answer(201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued", **form})

        def _answer(self, status: int, data: dict[str, object]) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

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
