"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.server import free_port


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.controller: Controller | None = None
        self.port = 0

    def stop(self) -> None:
        """The mail server goes down (connections refused) until ``restart``."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def restart(self) -> None:
        """The mail server comes back on the same port, keeping what it received."""
        if self.controller is None:
            self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
            self.controller.start()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def wait_for_one_to(self, address: str, *, after: int = 0, timeout: float = 10.0) -> EmailMessage:
        """The first message to ``address`` among those received after the first ``after``: other
        messages of a shared server (another test's, delivered late) are not taken for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages[after:] if m["To"] == address]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no message to {address} within {timeout} s")

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    mailbox.port = port
    mailbox.restart()
    try:
        yield mailbox, port
    finally:
        mailbox.stop()
