"""A real HTTP server on loopback that speaks the chat-completions protocol, scripted by each test.

Queue what the next requests get (a normal answer, an HTTP error, raw bytes, a slow answer or a
trickle of bytes); every request is recorded so tests can check what the coach sent.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class _Scripted:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay_seconds: float = 0.0  # before anything is sent
    chunk_delay_seconds: float = 0.0  # between bytes of the body, after the headers


def completion(content: str, *, finish_reason: str = "stop", model: str = "test-model") -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ).encode()


class ChatCompletionServer:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: deque[_Scripted] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        # A short poll interval makes stop() quick; the default half second adds up over many tests.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> ChatCompletionServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that are sleeping on purpose
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # --- scripting the next answers

    def answer(self, content: str, *, finish_reason: str = "stop") -> None:
        self._push(_Scripted(body=completion(content, finish_reason=finish_reason)))

    def fail(self, status: int, body: bytes = b'{"error": {"message": "upstream failure"}}') -> None:
        self._push(_Scripted(status=status, body=body))

    def send_raw(self, body: bytes, *, content_type: str = "application/json") -> None:
        self._push(_Scripted(body=body, content_type=content_type))

    def answer_slowly(self, content: str, *, delay_seconds: float) -> None:
        self._push(_Scripted(body=completion(content), delay_seconds=delay_seconds))

    def trickle(self, content: str, *, chunk_delay_seconds: float) -> None:
        self._push(_Scripted(body=completion(content), chunk_delay_seconds=chunk_delay_seconds))

    def _push(self, scripted: _Scripted) -> None:
        with self._lock:
            self._script.append(scripted)

    def _next(self) -> _Scripted:
        with self._lock:
            if self._script:
                return self._script.popleft()
        return _Scripted(body=completion("Thank you for writing this down."))

    # --- serving

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # As real servers do (uvicorn, nginx): the body is not held back until the client has
            # acknowledged the headers, which on a kept-alive connection costs a delayed ACK (40 ms
            # on Linux) per answer.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"unparsed": raw.decode("utf-8", "replace")}
                with server._lock:
                    server.requests.append(RecordedRequest(self.path, dict(self.headers.items()), body))
                if self.path != CHAT_PATH:
                    self._send(_Scripted(status=404, body=b'{"error": {"message": "not found"}}'))
                    return
                self._send(server._next())

            def _send(self, scripted: _Scripted) -> None:
                if scripted.delay_seconds and server._stopping.wait(scripted.delay_seconds):
                    return
                try:
                    self.send_response(scripted.status)
                    self.send_header("Content-Type", scripted.content_type)
                    self.send_header("Content-Length", str(len(scripted.body)))
                    self.end_headers()
                    if not scripted.chunk_delay_seconds:
                        self.wfile.write(scripted.body)
                        return
                    for start in range(0, len(scripted.body), 16):
                        self.wfile.write(scripted.body[start : start + 16])
                        self.wfile.flush()
                        if server._stopping.wait(scripted.chunk_delay_seconds):
                            return
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, which is what slow answers are for

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler
