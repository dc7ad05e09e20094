from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import wraps

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import make_url

from service.scheduler.jobs import JOBS

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


def create_scheduler(leadership: Leadership, *, blocking: bool = False) -> BackgroundScheduler:
    if blocking:
        from apscheduler.schedulers.blocking import BlockingScheduler

        scheduler: BackgroundScheduler = BlockingScheduler(timezone="UTC")  # type: ignore[assignment]
    else:
        scheduler = BackgroundScheduler(timezone="UTC")
    for job in JOBS:
        scheduler.add_job(
            _led(leadership, job.func, job.id),
            "interval",
            seconds=job.every_seconds,
            id=job.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=job.every_seconds * 4,
        )
    return scheduler
