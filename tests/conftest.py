"""Every test gets a fresh, migrated database: a copied SQLite file, or a PostgreSQL database
cloned from a migrated template when TANDEM_TEST_DATABASE_URL points at a server (CI does)."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser
from sqlalchemy.engine import make_url
from sqlmodel import Session

from service.config import get_settings
from service.db import new_session, reset_engine
from service.models.migrate import upgrade
from tests.support.pg_clones import Clones

PG_ADMIN_URL = os.environ.get("TANDEM_TEST_DATABASE_URL")
_counter = itertools.count()


def _pg_conninfo(url: str, dbname: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if dbname:
        parsed = parsed.set(database=dbname)
    return parsed.render_as_string(hide_password=False)


def _sqlalchemy_url(url: str, dbname: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg", database=dbname).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where this worker's SQLite databases live: in memory (/dev/shm) where the machine has it.

    The service makes SQLite sync every commit to disk (synchronous=FULL); on a test database that
    is thrown away, the disk's sync time would otherwise set the pace of the tests.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path_factory.mktemp("databases")
        return
    path = Path(tempfile.mkdtemp(prefix="tandem-tests-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def template_database(sqlite_dir: Path) -> Iterator[str]:
    """Migrate once per test run; each test then starts from a copy of this database."""
    os.environ["TANDEM_SCHEDULER_ENABLED"] = "false"
    if PG_ADMIN_URL:
        name = f"tandem_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        upgrade(_sqlalchemy_url(PG_ADMIN_URL, name))
        yield name
        with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = sqlite_dir / "template.db"
        upgrade(f"sqlite:///{path}")
        yield str(path)


@pytest.fixture(scope="session")
def pg_clones(template_database: str) -> Iterator[Clones]:
    assert PG_ADMIN_URL
    clones = Clones(_pg_conninfo(PG_ADMIN_URL), template_database)
    try:
        yield clones
    finally:
        clones.close()


@pytest.fixture
def database_url(
    template_database: str, sqlite_dir: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    if PG_ADMIN_URL:
        clones: Clones = request.getfixturevalue("pg_clones")
        name = clones.take()
        url = _sqlalchemy_url(PG_ADMIN_URL, name)
    else:
        name = f"tandem_t_{os.getpid()}_{next(_counter)}"
        target = sqlite_dir / f"{name}.db"
        shutil.copyfile(template_database, target)
        url = f"sqlite:///{target}"
    monkeypatch.setenv("TANDEM_DATABASE_URL", url)
    get_settings.cache_clear()
    reset_engine()
    yield url
    reset_engine()
    get_settings.cache_clear()
    if PG_ADMIN_URL:
        clones.give_back(name)
    else:
        for leftover in sqlite_dir.glob(f"{name}.db*"):  # the database, its WAL and shared-memory files
            leftover.unlink()


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    s = new_session()
    yield s
    s.close()


_apps: dict[str, FastAPI] = {}


@pytest.fixture
def app(database_url: str) -> FastAPI:
    """The application, built once per worker for each configuration a test runs it with.

    Building it (every route and response model) costs more than most tests. It reads its settings
    when built and the database (whose URL differs for every test) on each request, so an app
    built for the same settings but another test's database is the app this test would build.
    """
    from service.app import create_app

    configuration = get_settings().model_dump_json(exclude={"database_url"})
    if configuration not in _apps:
        _apps[configuration] = create_app()
    return _apps[configuration]


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def _chromium_of_this_worker() -> Iterator[tuple[Browser, asyncio.AbstractEventLoop | None]]:
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        # The project installs it (infra/scripts/system-deps.sh): a missing browser is a broken set-up.
        pytest.fail(f"Chromium is missing at {CHROMIUM}; run `make system-deps`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Between its calls Playwright's sync API marks its event loop as this thread's running loop;
        # the tests in between (asyncio.run, anyio.run) must find none: see chromium below.
        loop = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(None)
        try:
            yield launched, loop
        finally:
            asyncio.events._set_running_loop(loop)
            launched.close()


@pytest.fixture
def chromium(_chromium_of_this_worker: tuple[Browser, asyncio.AbstractEventLoop | None]) -> Iterator[Browser]:
    """One headless Chromium per worker, launched by its first browser test and shared by the rest.

    Each test opens its own context (cookies, storage, window size and language of its own, as a
    fresh browser profile would have): a context costs milliseconds, where a launch costs seconds.
    Playwright's event loop is marked running in this thread for the test only, as it would be with
    a browser of the test's own, and unmarked after it for the tests that run their own loop.
    """
    launched, loop = _chromium_of_this_worker
    asyncio.events._set_running_loop(loop)
    try:
        yield launched
    finally:
        asyncio.events._set_running_loop(None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-postgres",
        action="store_true",
        help="fail unless the run uses PostgreSQL (CI's second run)",
    )


def _weight(item: pytest.Item) -> float:
    """Roughly how many seconds a long test takes on a quiet machine: `slow(seconds=...)`, else 10."""
    slow = item.get_closest_marker("slow")
    if slow is None:
        return 10 if item.get_closest_marker("browser") else 0
    return float(slow.kwargs.get("seconds", 10))


def _unit(item: pytest.Item) -> str:
    """Long tests that must run on one worker: those of one xdist_group, or of one module when they
    share a module fixture (made once per worker that runs them: a seeded server, a scored corpus)."""
    group = item.get_closest_marker("xdist_group")
    if group:
        return f"group {group.args[0] if group.args else group.kwargs['name']}"
    definitions = getattr(item, "_fixtureinfo", None)
    if definitions and any(defs[-1].scope == "module" for defs in definitions.name2fixturedefs.values() if defs):
        return f"module {item.nodeid.split('::')[0]}"
    return item.nodeid


@pytest.hookimpl(trylast=True)  # after any plugin that shuffles the order (pytest-randomly)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each xdist worker starts with its share of the long tests (browser tests, then those marked
    slow), then its share of the rest, in the order collected.

    The suite cannot end before its longest test does: a 30 s test started last runs alone on one
    core while the other idles. `--dist worksteal` (pyproject.toml) gives each of the N workers one
    of N equal consecutive slices of this list, then lets an idle worker take the end of another's
    queue: the long tests are dealt, heaviest first, to the front of the slice with the least long
    work so far (keeping together those that share a module fixture or an xdist_group), and the
    short ones fill the slices up and are what gets taken. Every worker sorts the same collection
    the same way, as xdist requires; without workers, the long tests simply come first.
    """
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        if _weight(item):
            units.setdefault(_unit(item), []).append(item)
    short = [item for item in items if not _weight(item)]
    slices: list[list[pytest.Item]] = [[] for _ in range(workers)]
    load = [0.0] * workers
    for unit in sorted(units.values(), key=lambda unit: -sum(map(_weight, unit))):  # stable
        slot = load.index(min(load))
        slices[slot] += unit
        load[slot] += sum(map(_weight, unit))
    left = len(items)
    for slot in range(workers):  # as xdist's worksteal scheduler cuts its first distribution
        size = left // (workers - slot)
        left -= size
        take = max(0, size - len(slices[slot]))
        slices[slot] += short[:take]
        short = short[take:]
    slices[-1] += short
    items[:] = [item for part in slices for item in part]


def pytest_configure(config: pytest.Config) -> None:
    # Before any setting is read, and inherited by every `tandem` process a test starts: passwords are
    # hashed with argon2's cheapest parameters, which the settings allow only when TANDEM_ENV=test.
    os.environ["TANDEM_ENV"] = "test"
    os.environ["TANDEM_PASSWORD_HASHING"] = "cheapest"
    get_settings.cache_clear()
    if config.getoption("--require-postgres") and not PG_ADMIN_URL:
        raise pytest.UsageError("--require-postgres given but TANDEM_TEST_DATABASE_URL is not set")


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A real SMTP server on loopback; the service's SMTP settings point at it."""
    from tests.support.smtp import smtp_server

    with smtp_server() as (box, port):
        monkeypatch.setenv("TANDEM_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("TANDEM_SMTP_PORT", str(port))
        get_settings.cache_clear()
        yield box
    get_settings.cache_clear()
