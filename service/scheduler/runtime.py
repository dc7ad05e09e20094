from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import wraps
from typing import Any

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import make_url

from service import notify
from service.scheduler.jobs import DELIVERY_JOB, JOBS

log = logging.getLogger(__name__)
# Any constant shared by every replica: who holds it runs the jobs.
LEADER_LOCK_KEY = 0x7A4D_5C4E


class Leadership:
    """Only the holder of a PostgreSQL advisory lock runs jobs; on SQLite there is one process.

    The lock lives on a dedicated connection: if the leader dies, PostgreSQL frees it with the
    connection, and another replica takes over at its next tick.
    """

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self._postgres = url.get_backend_name() == "postgresql"
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()

    def is_leader(self) -> bool:
        if not self._postgres:
            return True
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(self._conninfo, autocommit=True)
                    row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK_KEY,)).fetchone()
                    if not (row and row[0]):
                        self._conn.close()
                        self._conn = None
                        return False
                    log.info("this process now runs the scheduled jobs")
                    return True
                self._conn.execute("SELECT 1")  # still alive, so still holding the lock
                return True
            except psycopg.Error:
                self._conn = None
                return False

    def holds(self) -> bool:
        """Whether this process leads, as far as it knows, without asking the database."""
        if not self._postgres:
            return True
        with self._lock:
            return self._conn is not None and not self._conn.closed

    def release(self) -> None:
        with self._lock:
            if self._conn is not None and not self._conn.closed:
                self._conn.close()
            self._conn = None


def _led(leadership: Leadership, func: Callable[[], object], job_id: str) -> Callable[[], None]:
    @wraps(func)
    def run() -> None:
        if not leadership.is_leader():
            return
        try:
            func()
        except Exception:
            log.exception("scheduled job %s failed", job_id)

    return run


def _one_at_a_time(func: Callable[[], None]) -> Callable[[], None]:
    lock = threading.Lock()

    @wraps(func)
    def run() -> None:
        with lock:
            func()

    return run


class DeliverySoon:
    """Runs the outbox's delivery as soon as a transaction that queued a message has committed, not at
    the next tick: an urgent alert's email, push and text leave in a moment, as a reset link does.

    It observes the live events (notify.QUEUED): on SQLite they come from this process's own commits;
    on PostgreSQL from every replica's, through the LISTEN connection, so the replica that leads the
    scheduler hears of the messages queued by the others (the others, not leading, do nothing and ask
    the database nothing). The tick still runs (retries, and any wake missed while the listener
    reconnects); the two never deliver at the same time in one process.
    """

    def __init__(self, deliver: Callable[[], None], may_run: Callable[[], bool]) -> None:
        self._deliver = deliver
        self._may_run = may_run
        self._due = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, events: list[dict[str, Any]]) -> None:
        if any(event.get("kind") == notify.QUEUED for event in events):
            self._due.set()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="tandem-deliver-soon", daemon=True)
        notify.broker.observe(self)
        self._thread.start()

    def stop(self, *, wait: bool = True) -> None:
        """No new round starts; with ``wait``, the one under way finishes first (as the scheduler's
        own jobs do on shutdown), so nothing is sent after the process gives up its leadership."""
        notify.broker.unobserve(self)
        self._stopping.set()
        self._due.set()
        if wait and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        # A first round at once: what was queued while no process delivered goes now, and this process
        # takes the leadership if nobody holds it (the wakes then find it held, without asking).
        first = True
        while True:
            if not first:
                self._due.wait()
            if self._stopping.is_set():
                return
            self._due.clear()  # what is queued from now on wakes a next round
            if first or self._may_run():
                self._deliver()
            first = False


class _DeliveringSoon:
    """A scheduler whose outbox delivery also runs as soon as a message is queued (DeliverySoon): started
    before the scheduler (a blocking one returns from start() only when it stops) and stopped before it,
    so no delivery begins while its jobs wind down."""

    def __init__(self, soon: DeliverySoon, **options: Any) -> None:
        self.soon = soon
        super().__init__(**options)

    def start(self, *args: Any, **kwargs: Any) -> None:
        self.soon.start()
        super().start(*args, **kwargs)  # type: ignore[misc]

    def shutdown(self, wait: bool = True) -> None:
        self.soon.stop(wait=wait)
        super().shutdown(wait)  # type: ignore[misc]


class _Background(_DeliveringSoon, BackgroundScheduler):
    """The scheduler of `tandem serve`: its jobs run on threads beside the web app."""


def create_scheduler(leadership: Leadership, *, blocking: bool = False) -> BackgroundScheduler:
    """The jobs, each on its interval, run only by the leading replica; the outbox's delivery also
    runs as soon as a message is queued (DeliverySoon, started and stopped with the scheduler)."""
    runs = {job.id: _led(leadership, job.func, job.id) for job in JOBS}
    runs[DELIVERY_JOB] = _one_at_a_time(runs[DELIVERY_JOB])  # the tick and the wake, never both at once
    soon = DeliverySoon(runs[DELIVERY_JOB], leadership.holds)
    if blocking:
        from apscheduler.schedulers.blocking import BlockingScheduler

        class _Blocking(_DeliveringSoon, BlockingScheduler):
            """The scheduler of `tandem scheduler`: its start() runs the jobs until the process stops."""

        scheduler: BackgroundScheduler = _Blocking(soon, timezone="UTC")  # type: ignore[assignment]
    else:
        scheduler = _Background(soon, timezone="UTC")
    for job in JOBS:
        scheduler.add_job(
            runs[job.id],
            "interval",
            seconds=job.every_seconds,
            id=job.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=job.every_seconds * 4,
        )
    return scheduler
