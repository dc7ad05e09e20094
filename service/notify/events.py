"""Live events for open portal pages (server-sent events), across replicas.

On PostgreSQL an event is a ``NOTIFY`` issued inside the writing transaction: PostgreSQL delivers it
only if that transaction commits, to every replica LISTENing. On SQLite (one process) the event is
handed to the in-process broker after the commit. Either way a rolled-back change announces nothing.
Events carry ids and facts for one clinic, never client text; a few carry no clinic: no page gets
them, only the observers of every replica (the outbox's "a message is queued", which wakes its
delivery).
"""

from __future__ import annotations

import asyncio
import json
import logging
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

log = logging.getLogger(__name__)
CHANNEL = "tandem_events"


@dataclass(eq=False)
class Subscription:
    clinic_id: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))


Observer = Callable[[list[dict[str, Any]]], None]


class Broker:
    """Fans events out to the subscriptions of this process, and to its observers (every event of
    every clinic, in the thread that dispatches them: they must return at once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()
        self._observers: list[Observer] = []

    def observe(self, observer: Observer) -> None:
        with self._lock:
            self._observers.append(observer)

    def unobserve(self, observer: Observer) -> None:
        with self._lock:
            if observer in self._observers:
                self._observers.remove(observer)

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
            observers = list(self._observers)
        for observer in observers:
            try:
                observer(events)
            except Exception:
                log.exception("a live-event observer failed")
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
    session.connection()  # in a transaction, even before any write: the events commit or roll back with it
    session.info.setdefault("live_events", []).append({"clinic_id": clinic_id, "kind": kind, "data": data})


def announce_once(session: Session, kind: str) -> None:
    """Announce ``kind``, with no clinic and no data, to this process's and every replica's observers
    once the caller's transaction commits; once per transaction however often it is called."""
    if not any(event["kind"] == kind for event in session.info.get("live_events", ())):
        publish(session, clinic_id="", kind=kind, data={})


# Every session's transactions, each time (a listener added to one session "once" would fire for its
# first commit only: the events of its later transactions would never leave). A savepoint's release
# also fires the commit events: only the outermost transaction's commit sends.
@sa_event.listens_for(OrmSession, "before_commit")
def _notify_pending(session: OrmSession) -> None:
    """On PostgreSQL: NOTIFY inside the transaction (delivered only if it commits), in one statement."""
    if not session.info.get("live_events") or session.in_nested_transaction():
        return
    if session.get_bind().dialect.name != "postgresql":
        return
    events = session.info.pop("live_events")
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


@sa_event.listens_for(OrmSession, "after_commit")
def _dispatch_pending(session: OrmSession) -> None:
    """On SQLite (one process): to this process's broker once committed. PostgreSQL's are sent already."""
    if session.in_nested_transaction():
        return
    events = session.info.pop("live_events", None)
    if events:
        broker.dispatch_all(events)


@sa_event.listens_for(OrmSession, "after_transaction_create")
def _mark_savepoint(session: OrmSession, transaction: SessionTransaction) -> None:
    """A savepoint remembers how many events were pending when it began, to forget its own if it rolls back."""
    if transaction.nested:
        session.info.setdefault("live_marks", {})[transaction] = len(session.info.get("live_events", ()))


@sa_event.listens_for(OrmSession, "after_soft_rollback")
def _drop_pending(session: OrmSession, previous_transaction: SessionTransaction) -> None:
    """A rolled-back transaction (even one that never reached the database) announces nothing; a
    rolled-back savepoint, nothing of what it published."""
    if previous_transaction.parent is None:
        session.info.pop("live_events", None)
    elif previous_transaction.nested:
        mark = session.info.get("live_marks", {}).get(previous_transaction)
        if mark is not None and "live_events" in session.info:
            del session.info["live_events"][mark:]


@sa_event.listens_for(OrmSession, "after_transaction_end")
def _forget_pending(session: OrmSession, transaction: SessionTransaction) -> None:
    """Whatever ends the outermost transaction without a commit (a close, an ended read) leaves no
    event for the session's next transaction to send. Savepoints' marks go with it (a savepoint ends
    before its soft rollback is told, which still needs the mark)."""
    if transaction.parent is None:
        session.info.pop("live_events", None)
        session.info.pop("live_marks", None)


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
