"""A local SMTP server for the demo: it accepts every message, so the whole notification chain
works on a laptop; the portal's demo page lists what was sent (from the outbox)."""

from __future__ import annotations

import socket
from typing import Any

from aiosmtpd.controller import Controller


class _Accept:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 OK"


def start_sink(host: str = "127.0.0.1") -> tuple[Controller, int]:
    """Start the sink on a free loopback port; returns the controller (stop it at exit) and the port."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port = int(sock.getsockname()[1])
    controller = Controller(_Accept(), hostname=host, port=port)
    controller.start()
    return controller, port
