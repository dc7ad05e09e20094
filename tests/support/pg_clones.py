"""Fresh PostgreSQL databases cloned from a migrated template, one test ahead, on a thread of their own.

Cloning a migrated database (CREATE DATABASE ... TEMPLATE, WAL-logged) takes tens of milliseconds.
Dropping one is what costs: every DROP DATABASE waits for an immediate checkpoint, which flushes and
syncs every dirty page of the server (from 0.5 s to over 10 s on a busy one). DROPs issued at the same
time share their checkpoint (8 at once took 0.7 s where 4 in a row took 44 s), so used databases are
dropped in rounds, off the clone thread: each round drops, side by side, every database the tests gave
back since the last round began. Each test still gets a database of its own, as fresh as the template.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg

# DROPs at the same time in a round (each on its own connection; the server's are shared).
DROPS_AT_ONCE = 8


class Clones:
    def __init__(self, conninfo: str, template: str) -> None:
        self._conninfo = conninfo
        self._template = template
        self._numbers = itertools.count()
        self._used: list[str] = []
        # One thread clones, in order; one thread runs the rounds of drops, each on a few connections.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-clones")
        self._rounds = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-drop-rounds")
        self._droppers = ThreadPoolExecutor(max_workers=DROPS_AT_ONCE, thread_name_prefix="pg-drops")
        self._round: Future[None] | None = None
        self._next = self._executor.submit(self._create)

    def take(self) -> str:
        """A database cloned from the template that no test has used; the next one starts cloning."""
        name = self._next.result()
        self._next = self._executor.submit(self._create)
        return name

    def give_back(self, name: str) -> None:
        """A test is over with its database: dropped in the next round (its connections forced out)."""
        self._used.append(name)
        if self._round is None or self._round.done():
            self._start_round()

    def close(self) -> None:
        self._used.append(self._next.result())
        if self._round is not None:
            self._round.result()
        self._start_round()
        assert self._round is not None
        self._round.result()
        for executor in (self._executor, self._rounds, self._droppers):
            executor.shutdown(wait=True)

    def _start_round(self) -> None:
        if self._round is not None:
            self._round.result()  # a round that failed fails the test that finds it out
        names, self._used = self._used, []
        self._round = self._rounds.submit(self._drop, names)

    def _drop(self, names: list[str]) -> None:
        statements = [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names]
        list(self._droppers.map(self._admin, statements))

    def _create(self) -> str:
        name = f"tandem_t_{os.getpid()}_{next(self._numbers)}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        return name

    def _admin(self, statement: str) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]  # names are ours, not input
