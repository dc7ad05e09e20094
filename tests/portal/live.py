"""Helpers for tests of the live alert feed: real HTTP servers, a signed-in httpx client, and a
reader of server-sent events."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from tests.portal.conftest import csrf_of
from tests.support.server import free_port

# Generous: a replica's LISTEN connection, a thread hop and a database query stand between the
# commit and the event, and CI machines are slow.
EVENT_TIMEOUT = 20.0


@contextmanager
def serving_in_process(app: Any, port: int | None = None) -> Iterator[str]:
    """The app behind a real uvicorn server in a thread of this process (one process: SQLite's case)."""
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,  # as `tandem serve` runs it: the service's own logging, never uvicorn's
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the in-process server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def signed_in_browser(base: str, email: str, password: str) -> httpx.Client:
    """An httpx client holding a portal session on ``base``, signed in with a password."""
    browser = httpx.Client(base_url=base, timeout=httpx.Timeout(10.0, read=EVENT_TIMEOUT))
    form = browser.get("/portal/login")
    answer = browser.post(
        "/portal/login", data={"email": email, "password": password, "csrf_token": csrf_of(form.text)}
    )
    assert answer.status_code == 303, answer.text
    return browser


def client_tokens(base: str, email: str, password: str) -> dict[str, str]:
    answer = httpx.post(f"{base}/api/v1/auth/token", json={"email": email, "password": password}, timeout=10)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def post_checkin(base: str, headers: dict[str, str], note: str, mood: int = 2) -> dict[str, Any]:
    answer = httpx.post(f"{base}/api/v1/checkins", json={"mood": mood, "note": note}, headers=headers, timeout=20)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@dataclass
class Event:
    name: str
    data: dict[str, Any]


class EventReader:
    """Reads a text/event-stream response block by block; comments (heartbeats) are kept apart."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()
        self.comments: list[str] = []

    def next_event(self) -> Event | None:
        """The next event, or None when the server closed the stream."""
        name, data = "message", ""
        for line in self.lines:
            if line == "":
                if data:
                    return Event(name, json.loads(data))
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
            elif line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data += line.split(":", 1)[1].strip()
        return None

    def wait_connected(self) -> None:
        """Until the server's first comment: from then on it is subscribed."""
        for line in self.lines:
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                if "connected" in line:
                    return
        raise AssertionError("the stream closed before it was connected")


@contextmanager
def serving_configured(**env: str) -> Iterator[str]:
    """The app `tandem serve` runs, configured by ``env`` on top of the test's settings, behind a real
    uvicorn server in a thread of this process; its public address (TANDEM_BASE_URL) is its own port.

    For tests whose subject is what a browser or HTTP client meets, not the process: it is ready in a
    fraction of a second, where a `tandem serve` process imports the whole service anew (seconds each).
    """
    from service.app import create_app
    from service.config import get_settings

    port = free_port()
    env = {"TANDEM_BASE_URL": f"http://127.0.0.1:{port}", **env}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        with serving_in_process(create_app(), port=port) as base:
            yield base
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
