"""Fresh PostgreSQL databases cloned from a migrated template, one test ahead, on a thread of their own.

Cloning a migrated database (CREATE DATABASE ... TEMPLATE, WAL-logged) takes tens of milliseconds.
Dropping one is what costs: every DROP DATABASE makes the server run an immediate checkpoint, which
flushes and syncs every dirty page of every database (0.5 to 3 s on a busy server). So a test's
database is never dropped on the clone thread's path: used databases are dropped in batches, each
batch's DROPs at the same time on their own connections, so that one checkpoint serves many of them.
Each test still gets a database of its own, as fresh as the template.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg

# Used databases kept before they are dropped together (a clone is about 9 MB on disk).
DROP_BATCH = 12


class Clones:
    def __init__(self, conninfo: str, template: str) -> None:
        self._conninfo = conninfo
        self._template = template
        self._numbers = itertools.count()
        self._used: list[str] = []
        self._drops: list[Future[None]] = []
        # One thread clones, in order; the drops of a batch run side by side on threads of their own.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-clones")
        self._droppers = ThreadPoolExecutor(max_workers=DROP_BATCH, thread_name_prefix="pg-drops")
        self._next = self._executor.submit(self._create)

    def take(self) -> str:
        """A database cloned from the template that no test has used; the next one starts cloning."""
        name = self._next.result()
        self._next = self._executor.submit(self._create)
        self._raise_failed_drops()
        return name

    def give_back(self, name: str) -> None:
        """A test is over with its database: dropped with the next batch (its connections forced out)."""
        self._used.append(name)
        if len(self._used) >= DROP_BATCH:
            self._drop_used()

    def close(self) -> None:
        self._used.append(self._next.result())
        self._drop_used()
        self._executor.shutdown(wait=True)
        self._droppers.shutdown(wait=True)
        self._raise_failed_drops()

    def _drop_used(self) -> None:
        for name in self._used:
            self._drops.append(self._droppers.submit(self._admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._used = []

    def _create(self) -> str:
        name = f"tandem_t_{os.getpid()}_{next(self._numbers)}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        return name

    def _admin(self, statement: str) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]  # names are ours, not input

    def _raise_failed_drops(self) -> None:
        done, self._drops = [f for f in self._drops if f.done()], [f for f in self._drops if not f.done()]
        for future in done:
            future.result()  # a drop that failed fails the test that finds it out, as it did when inline
