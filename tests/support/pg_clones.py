"""Fresh PostgreSQL databases cloned from a migrated template, one test ahead, on a thread of their own.

Cloning a migrated database takes about a second and dropping one a few tenths, mostly the server
writing and syncing files. Each test still gets a database of its own, as fresh as the template;
the next test's clone is made, and the last test's database dropped, while a test runs.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg


class Clones:
    def __init__(self, conninfo: str, template: str) -> None:
        self._conninfo = conninfo
        self._template = template
        self._numbers = itertools.count()
        self._drops: list[Future[None]] = []
        # One thread: the server does one clone or drop at a time for this worker, in order.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-clones")
        self._next = self._executor.submit(self._create)

    def take(self) -> str:
        """A database cloned from the template that no test has used; the next one starts cloning."""
        name = self._next.result()
        self._next = self._executor.submit(self._create)
        self._raise_failed_drops()
        return name

    def give_back(self, name: str) -> None:
        """Drop a test's database once the test is over (its connections are closed or forced out)."""
        self._drops.append(self._executor.submit(self._admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        unused = self._next.result()
        self.give_back(unused)
        self._executor.shutdown(wait=True)
        self._raise_failed_drops()

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
