"""Live events for open portal pages (server-sent events), across replicas.

On PostgreSQL an event is a ``NOTIFY`` issued inside the writing transaction: PostgreSQL delivers it
only if that transaction commits, to every replica LISTENing. On SQLite (one process) the event is
handed to the in-process broker after the commit. Either way a rolled-back change announces nothing.
Events carry ids and facts for one clinic, never client text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import select
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session

log = logging.getLogger(__name__)
CHANNEL = "tandem_events"


@dataclass(eq=False)
class Subscription:
    clinic_id: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))


class Broker:
    """Fans events out to the subscriptions of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()

    def subscribe(self, clinic_id: str) -> Subscription:
        subscription = Subscription(clinic_id, asyncio.get_running_loop())
        with self._lock:
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def dispatch(self, event: dict[str, Any]) -> None:
        self.dispatch_all([event])

    def dispatch_all(self, events: list[dict[str, Any]]) -> None:
        """The events of one transaction: each page gets all of its clinic's at once (one step of its
        loop), so a feed that wakes on the first finds the rest already queued and waits no longer."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            own = [e for e in events if e.get("clinic_id") == subscription.clinic_id]
            if not own:
                continue
            try:
                subscription.loop.call_soon_threadsafe(_offer, subscription.queue, own)
            except RuntimeError:  # the page's loop is gone
                self.unsubscribe(subscription)


def _offer(queue: asyncio.Queue[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    for event in events:
        if queue.full():  # a stalled page misses events; it reloads the list when it reconnects
            return
        queue.put_nowait(event)


broker = Broker()


def publish(session: Session, *, clinic_id: str, kind: str, data: dict[str, Any]) -> None:
    """Announce ``kind`` to the clinic's open pages once the caller's transaction commits."""
    event = {"clinic_id": clinic_id, "kind": kind, "data": data}
    pending: list[dict[str, Any]] = session.info.setdefault("live_events", [])
    if not pending:
        if session.get_bind().dialect.name == "postgresql":
            # NOTIFY inside the transaction (delivered only if it commits), all events in one statement.
            sa_event.listen(session, "before_commit", _notify_pending, once=True)
        else:
            sa_event.listen(session, "after_commit", _dispatch_pending, once=True)
        sa_event.listen(session, "after_rollback", _drop_pending, once=True)
    pending.append(event)


def _notify_pending(session: Session) -> None:
    events = session.info.pop("live_events", [])
    if not events:
        return
    # The transaction's events travel together (a JSON list per NOTIFY, under PostgreSQL's 8000-byte
    # payload limit), so each replica hands them to its pages in one go; all in one statement.
    payloads = _payloads(events)
    calls = ", ".join(f"pg_notify(:channel, :payload{i})" for i in range(len(payloads)))
    params: dict[str, Any] = {"channel": CHANNEL}
    params.update({f"payload{i}": payload for i, payload in enumerate(payloads)})
    session.execute(text(f"SELECT {calls}"), params)


NOTIFY_PAYLOAD_BYTES = 7000


def _payloads(events: list[dict[str, Any]]) -> list[str]:
    payloads: list[str] = []
    batch: list[str] = []
    for event in events:
        encoded = json.dumps(event)
        if batch and sum(len(e) + 1 for e in batch) + len(encoded) + 2 > NOTIFY_PAYLOAD_BYTES:
            payloads.append("[" + ",".join(batch) + "]")
            batch = []
        batch.append(encoded)
    payloads.append("[" + ",".join(batch) + "]")
    return payloads


def _received(payload: str) -> list[dict[str, Any]]:
    """A NOTIFY payload: a list of events (or one event, from a replica of an earlier version)."""
    data = json.loads(payload)
    return [e for e in (data if isinstance(data, list) else [data]) if isinstance(e, dict)]


def _dispatch_pending(session: Session) -> None:
    events = session.info.pop("live_events", [])
    if events:
        broker.dispatch_all(events)


def _drop_pending(session: Session) -> None:
    session.info.pop("live_events", None)


class PostgresListener:
    """One LISTEN connection per replica, feeding the local broker; reconnects after failures.

    It waits on the connection's socket and on a wake-up socket together, so ``stop`` returns at once
    instead of after the current wait (a replica's shutdown, and every test client on PostgreSQL).
    """

    def __init__(self, database_url: str) -> None:
        self._conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._stop = threading.Event()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name="tandem-listen", daemon=True)
        self.ready = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake_writer.send(b"\0")
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._wake_reader.close()
            self._wake_writer.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.ready.set()
                    while not self._stop.is_set():
                        # What has arrived (or came in with an earlier answer), without waiting...
                        for notice in conn.notifies(timeout=0):
                            broker.dispatch_all(_received(notice.payload))
                        # ...then until the database sends more, or stop() wakes us.
                        select.select([conn.fileno(), self._wake_reader.fileno()], [], [], 5.0)
            except (psycopg.Error, OSError) as exc:
                self.ready.clear()
                log.warning("live-event listener lost its connection (%s); reconnecting", type(exc).__name__)
                self._stop.wait(2.0)
