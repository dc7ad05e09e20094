"""Run the real `tandem` command as a separate process, the way a clinic or a client app meets it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

TANDEM = str(Path(sys.executable).with_name("tandem"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PROJECT_ROOT = Path(__file__).resolve().parents[2]


def tandem_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    # The code under test, even when the `tandem` script was installed from another checkout.
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.update(extra)
    return env


def tandem_json(*args: str, stdin: str | None = None) -> Any:
    """Run `tandem ARGS --json` and parse what it prints."""
    done = subprocess.run(
        [TANDEM, *args, "--json"], input=stdin, capture_output=True, text=True, env=tandem_env(), timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def wait_ready(base: str, process: subprocess.Popen[Any] | None = None, *, within: float = 60) -> None:
    """Poll ``base``/readyz until it answers 200. One client for the whole wait: each new httpx
    client loads the certificate bundle again (tens of milliseconds), for a plain-HTTP address."""
    deadline = time.monotonic() + within
    with httpx.Client(timeout=1) as http:
        while True:
            if process is not None and process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"the server exited early:\n{output}")
            try:
                if http.get(f"{base}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{base} did not become ready within {within:.0f} s")
            time.sleep(0.1)


@contextmanager
def running_server(*args: str, env: dict[str, str] | None = None, ready_within: float = 60) -> Iterator[str]:
    """`tandem serve` on a free port; yields its base URL and stops it afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [TANDEM, "serve", "--port", str(port), *args],
        # Its public address is its own port, so links it makes (emails, redirects) lead back to it.
        env=tandem_env(**{"TANDEM_BASE_URL": base, **(env or {})}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(base, process, within=ready_within)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
