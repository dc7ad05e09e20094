"""Engine, session factory and ``unit_of_work``: the only place that opens database connections."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import anyio.to_thread
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.sql.compiler import InsertmanyvaluesSentinelOpts
from sqlmodel import Session, create_engine

from service.config import get_settings

log = logging.getLogger(__name__)
_engine: Engine | None = None
_FLUSHED = "flushed_since_commit"  # session.info flag: rows written in the open transaction

# Connections beyond the request threads: the scheduler's jobs, readiness checks, the live feed's
# short look-ups. With at least one connection per request thread, a request that got a thread
# never waits for a connection; requests queue for a thread instead, holding nothing.
SPARE_CONNECTIONS = 6
OVERFLOW_CONNECTIONS = 10
# Seconds SQLite waits on a lock held by another process (a CLI command, a second server).
SQLITE_BUSY_SECONDS = 30

# SQLite admits one writer at a time. Writers of this process take turns on this lock, in order,
# before they write, instead of racing for SQLite's lock (whose busy handler sleeps and retries,
# unfairly, until a timeout turns into an error): under load the embedded default gets slower,
# never fails.
_sqlite_writer = threading.RLock()


class DatabaseBusy(Exception):
    """No database connection or write turn came in time: the service is saturated, try again."""


# What a saturated pool or an unreachable database raises: answered 503 with Retry-After, not 500.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    DatabaseBusy,
    sa_exc.TimeoutError,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
)


def pool_size_for(request_threads: int) -> int:
    return request_threads + SPARE_CONNECTIONS


def make_engine(url: str, *, echo: bool = False) -> Engine:
    parsed = make_url(url)
    settings = get_settings()
    pool = {
        "pool_size": pool_size_for(settings.request_threads),
        "max_overflow": OVERFLOW_CONNECTIONS,
        "pool_timeout": settings.pool_timeout_seconds,
    }
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS}
            engine = create_engine(url, echo=echo, connect_args=connect_args, **pool)
        else:
            engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        _batch_integer_key_inserts(engine)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, **pool)


def _batch_integer_key_inserts(engine: Engine) -> None:
    """Rows of one table with an integer key the database assigns (audit rows, alert history) go out
    in one multi-row INSERT ... RETURNING on SQLite too, as they do on PostgreSQL, rather than one
    statement per row. SQLAlchemy matches the keys that come back to the rows by sorting them: SQLite
    numbers the rows of one INSERT in the order of its VALUES (an INTEGER PRIMARY KEY is the next
    after the largest), so ascending keys are parameter order. Set before the first statement is
    compiled (the flag is read at compile time)."""
    engine.dialect.insertmanyvalues_implicit_sentinel = InsertmanyvaluesSentinelOpts.ANY_AUTOINCREMENT


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives a crash
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    cursor.close()


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        settings = get_settings()
        _engine = make_engine(settings.database_url, echo=settings.database_echo)
    return _engine


def reset_engine() -> None:
    """Forget the engine (tests and `tandem demo` switch databases)."""
    global _engine
    if _engine is not None:
        _engine.dispose()
    _engine = None


def new_session() -> Session:
    return Session(get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session for one request or one job; closed at the end, never committed implicitly."""
    session = new_session()
    try:
        yield session
    finally:
        session.close()


@asynccontextmanager
async def request_session() -> AsyncIterator[Session]:
    """``session_scope`` for a request's async dependency. Opening a session takes no connection (it
    connects on first use, on the route's thread), so the event loop opens it without a thread; at
    the end, a session that holds no connection any more (its unit of work committed, its read ended)
    closes without a word to the database, on the loop too. One still holding a connection closes on
    a thread: giving the connection back rolls its transaction back. Two thread hand-offs fewer per
    request than a sync generator dependency, whose opening and closing FastAPI each runs on a thread."""
    session = new_session()
    try:
        yield session
    finally:
        if session.in_transaction():  # it may hold a connection
            await anyio.to_thread.run_sync(session.close)
        else:
            session.close()


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """Commit everything done inside the block together, or nothing.

    Nested blocks join the outermost one, so a service function may call another service
    function and both writes still commit (or roll back) as one.
    """
    depth = session.info.get("uow_depth", 0)
    writer = _sqlite_writer if depth == 0 and _is_sqlite(session) else None
    if writer is not None and not writer.acquire(timeout=get_settings().pool_timeout_seconds * 3):
        raise DatabaseBusy("the database is busy")
    session.info["uow_depth"] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info["uow_depth"] = depth
        if writer is not None:
            writer.release()


def end_read(session: Session) -> None:
    """End the read-only transaction a dependency opened, so its connection goes back to the pool
    before the request waits for a thread to run the endpoint (loaded rows stay usable).

    A read ends without a commit: the page's own unit of work is then the request's only commit.
    Closing the transaction (not ``session.rollback()``) keeps the loaded rows as they are. Writes
    belong in ``unit_of_work``; one left pending here is committed rather than lost, and logged.
    """
    if not session.in_transaction() or session.info.get("uow_depth", 0) != 0:
        return
    if session.new or session.dirty or session.deleted or session.info.get(_FLUSHED):
        log.warning("a read left writes outside unit_of_work(); committing them so none is lost")
        session.commit()
        return
    transaction = session.get_transaction()
    if transaction is not None:
        transaction.close()


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: object) -> None:
    session.info[_FLUSHED] = True


@event.listens_for(Session, "after_transaction_end")
def _clear_flush(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (a savepoint's end changes nothing)
        session.info.pop(_FLUSHED, None)


def _is_sqlite(session: Session) -> bool:
    bind = session.get_bind()
    return bind.dialect.name == "sqlite"
