"""Pieces of the load and fault benchmarks: a throwaway PostgreSQL cluster, a real `tandem serve`,
seeded clients, a crowd of clients posting check-ins, a crisis prober and a portal live feed.

Everything runs on loopback and is bounded in count and time. The shared PostgreSQL server on 5432
is never touched: PostgreSQL benchmarks start their own cluster with Debian's pg_ctl on a free port.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import random
import shutil
import ssl
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import TANDEM, free_port, tandem_env

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)
ORDINARY_NOTES = ["", "", "Slept badly.", "A calm day.", "Busy at work, a bit tired.", "Went for a walk."]
CRISIS_NOTE = "I want to kill myself tonight."
EVENT_WAIT_SECONDS = 10  # a crisis whose live event takes longer counts as missed


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def summary(values: list[float]) -> str:
    if not values:
        return "n=0"
    ms = [v * 1000 for v in values]
    return (
        f"n={len(ms)} p50={percentile(ms, 50):.0f}ms p95={percentile(ms, 95):.0f}ms "
        f"p99={percentile(ms, 99):.0f}ms max={max(ms):.0f}ms mean={statistics.fmean(ms):.0f}ms"
    )


# --- A throwaway PostgreSQL cluster ----------------------------------------------------------


@dataclass
class Cluster:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/tandem"

    def _as_postgres(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True, check=check, timeout=120
        )

    def pg_ctl(self, *args: str) -> None:
        assert PG_BIN is not None
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-w", *args)

    @property
    def postmaster_pid(self) -> int:
        return int((self.directory / "data" / "postmaster.pid").read_text().split()[0])

    def restart(self) -> float:
        started = time.monotonic()
        self.pg_ctl("-m", "fast", "restart", "-l", str(self.directory / "log"))
        return time.monotonic() - started


@contextmanager
def throwaway_cluster(max_connections: int = 200) -> Iterator[Cluster]:
    """initdb + pg_ctl start on a free port in a temporary directory; stopped and removed afterwards."""
    if PG_BIN is None:
        raise SystemExit("PostgreSQL server binaries not found under /usr/lib/postgresql")
    directory = Path(tempfile.mkdtemp(prefix="tandem-bench-pg-"))
    shutil.chown(directory, "postgres", "postgres")
    cluster = Cluster(directory, free_port())
    data = str(directory / "data")
    cluster._as_postgres(str(PG_BIN / "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
    options = f"-p {cluster.port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections={max_connections}"
    options += " -c shared_buffers=128MB -c fsync=on -c synchronous_commit=on"
    try:
        cluster.pg_ctl("-o", options, "-l", str(directory / "log"), "start")
        cluster._as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "tandem")
        yield cluster
    finally:
        cluster.pg_ctl("-m", "immediate", "stop") if (directory / "data" / "postmaster.pid").exists() else None
        shutil.rmtree(directory, ignore_errors=True)


# --- The server under test -------------------------------------------------------------------


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def count_in_log(self, needle: str) -> int:
        return self.log_path.read_text(errors="replace").count(needle)


# Another checkout to serve instead of this one (before/after comparisons): BENCH_CODE_ROOT=/path.
CODE_ROOT = os.environ.get("BENCH_CODE_ROOT")


def server_env(database_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    if CODE_ROOT:
        extra = {"PYTHONPATH": CODE_ROOT, **extra}
    return tandem_env(
        TANDEM_DATABASE_URL=database_url,
        TANDEM_SMTP_HOST="127.0.0.1",
        TANDEM_SMTP_PORT=str(free_port()),  # nothing listens: emails stay queued, as when SMTP is down
        TANDEM_AUDIT_CHECKPOINT_PATH=str(workdir / "checkpoints.jsonl"),
        **extra,
    )


@contextmanager
def tandem_serve(
    database_url: str, workdir: Path, *, workers: int = 1, args: tuple[str, ...] = (), **extra_env: str
) -> Iterator[Server]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = workdir / f"serve-{port}.log"
    env = server_env(database_url, workdir, TANDEM_BASE_URL=base, **extra_env)
    with log_path.open("wb") as log:
        command = [TANDEM, "serve", "--port", str(port), *args]
        command += ["--workers", str(workers)] if workers != 1 else []  # older checkouts have no --workers
        process = subprocess.Popen(command, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(base, process, log_path)
            yield Server(base, process, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def bare_serve(database_url: str, workdir: Path, *, workers: int = 1, threads: int = 20) -> Iterator[Server]:
    """The bare FastAPI + SQLModel app of tests/benchmarks/bare_app.py under the same uvicorn setup."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = workdir / f"bare-{port}.log"
    env = tandem_env(BARE_DATABASE_URL=database_url, BARE_THREADS=str(threads))
    uvicorn = str(Path(TANDEM).with_name("uvicorn"))
    command = [uvicorn, "tests.benchmarks.bare_app:create_app", "--factory", "--port", str(port)]
    command += ["--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(base, process, log_path, path="/ready")
            yield Server(base, process, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path, path: str = "/readyz") -> None:
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(base + path, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("server did not become ready")
        time.sleep(0.3)


def migrate(database_url: str, workdir: Path) -> None:
    env = server_env(database_url, workdir)
    subprocess.run([TANDEM, "db", "upgrade"], env=env, cwd=workdir, check=True, timeout=300)


# --- Seeded people ----------------------------------------------------------------------------


@dataclass
class Seeded:
    clinic_id: str
    clinician_email: str
    clinician_password: str
    tokens: list[str]  # one access token per ordinary client
    crisis_tokens: list[str]  # one per crisis probe: each raises a new alert


def seed(database_url: str, workdir: Path, *, clients: int, crisis_clients: int) -> Seeded:
    """A clinic, its clinician and active clients (rows written directly: activation hashes passwords)."""
    code = f"""
import json
from service.db import session_scope, unit_of_work
from service.models import Patient, PatientStatus
from service.models.base import utcnow
from service.security.client_sessions import issue_tokens
from tests.factories import create_clinic
with session_scope() as s:
    setup = create_clinic(s, name="Load Clinic", slug="load-{uuid.uuid4().hex[:6]}")
    tokens, crisis = [], []
    with unit_of_work(s):
        patients = [Patient(clinic_id=setup.clinic.id, clinician_id=setup.clinician.id, display_name=f"Client {{n}}",
                            status=PatientStatus.ACTIVE, activated_at=utcnow(), timezone="Europe/Paris")
                    for n in range({clients + crisis_clients})]
        s.add_all(patients)
        s.flush()
        for n, p in enumerate(patients):
            # a live sign-in (refresh-token family) per client: access tokens are checked against it
            (tokens if n < {clients} else crisis).append(issue_tokens(s, patient=p).access_token)
    print(json.dumps({{"clinic": setup.clinic.id, "email": setup.clinician.email,
                      "password": setup.clinician_password, "tokens": tokens, "crisis": crisis}}))
"""
    done = subprocess.run(
        [str(Path(TANDEM).with_name("python")), "-c", code],
        env=server_env(database_url, workdir, TANDEM_ACCESS_TOKEN_TTL_SECONDS="7200"),
        cwd=workdir,  # `python -c` puts the working directory first on the path: import the code served
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Seeded(data["clinic"], data["email"], data["password"], data["tokens"], data["crisis"])


# --- The crowd, the crisis prober and the live feed -------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # request to final answer, retries included
    statuses: dict[int, int] = field(default_factory=dict)  # every answer, retries included
    transport_errors: int = 0
    answered_ids: list[str] = field(default_factory=list)
    gave_up: int = 0

    def note(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def five_xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every simulated client. httpx builds one per client otherwise (loading the
    CA bundle: 15 to 70 ms of CPU each), which blocked the crowd's event loop for seconds at the start
    of a run: the clients' first check-ins then left all at once, 70 of 100 within 0.1 s instead of
    over the first second, and the first crisis probe, sent at that moment, queued behind them (the
    slowest of every run, 1.4 to 1.8 s to its live event)."""
    return ssl.create_default_context()


async def post_checkin(
    http: httpx.AsyncClient, token: str, body: dict[str, Any], tally: Tally, *, deadline: float
) -> httpx.Response | None:
    """One check-in, retried with the same Idempotency-Key after a 503 or a dropped connection."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    started = time.monotonic()
    while True:
        try:
            answer = await http.post("/api/v1/checkins", json=body, headers=headers)
        except httpx.TransportError:
            tally.transport_errors += 1
            answer = None
        else:
            tally.note(answer.status_code)
            if answer.status_code == 201:
                tally.latencies.append(time.monotonic() - started)
                tally.answered_ids.append(answer.json()["id"])
                return answer
            if answer.status_code < 500:
                return answer
        if time.monotonic() > deadline:
            tally.gave_up += 1
            return answer
        retry_after = float(answer.headers.get("Retry-After", 1)) if answer is not None else 1.0
        await asyncio.sleep(min(retry_after, 2.0) * random.uniform(0.5, 1.0))


async def crowd_client(base: str, token: str, tally: Tally, *, until: float, think: float) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits, verify=_tls()) as http:
        await asyncio.sleep(random.uniform(0, max(think, 0.5)))  # not all at the same instant
        while time.monotonic() < until:
            body = {"mood": random.randint(0, 10), "note": random.choice(ORDINARY_NOTES) or None}
            await post_checkin(http, token, body, tally, deadline=until + 30)
            if think:
                await asyncio.sleep(random.expovariate(1 / think))


@dataclass
class CrisisTally:
    answers: list[float] = field(default_factory=list)
    live: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    without_lines: int = 0
    missed_events: int = 0
    answered_ids: list[str] = field(default_factory=list)


async def crisis_prober(
    base: str,
    tokens: list[str],
    events: asyncio.Queue[tuple[float, dict[str, Any]]],
    tally: CrisisTally,
    *,
    until: float,
    every: float,
) -> None:
    """One crisis check-in at a time, from a client without an open alert, and the time until the
    portal's live feed announces the new alert."""
    async with httpx.AsyncClient(base_url=base, timeout=60, verify=_tls()) as http:
        for token in tokens:
            if time.monotonic() >= until:
                return
            while not events.empty():
                events.get_nowait()
            sent = time.monotonic()
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
            try:
                answer = await http.post("/api/v1/checkins", json={"mood": 1, "note": CRISIS_NOTE}, headers=headers)
            except httpx.TransportError:
                tally.statuses[0] = tally.statuses.get(0, 0) + 1
                tally.without_lines += 1
                continue
            tally.answers.append(time.monotonic() - sent)
            tally.statuses[answer.status_code] = tally.statuses.get(answer.status_code, 0) + 1
            is_json = answer.headers.get("content-type", "").startswith("application/json")
            if not (is_json and answer.json().get("crisis")):
                tally.without_lines += 1
            if answer.status_code == 201:
                tally.answered_ids.append(answer.json()["id"])
                try:
                    while True:
                        at, data = await asyncio.wait_for(events.get(), timeout=EVENT_WAIT_SECONDS)
                        if data.get("kind") == "alert.created":
                            tally.live.append(at - sent)
                            break
                except TimeoutError:
                    tally.missed_events += 1
            await asyncio.sleep(max(0.0, every - (time.monotonic() - sent)))


async def live_feed(
    base: str,
    email: str,
    password: str,
    events: asyncio.Queue[tuple[float, dict[str, Any]]],
    stop: asyncio.Event,
    connected: asyncio.Event,
) -> None:
    """A clinician's open portal page: signs in, then reads the alert stream until told to stop."""
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(30, read=None), verify=_tls()) as browser:
        form = await browser.get("/portal/login")
        csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = await browser.post("/portal/login", data={"email": email, "password": password, "csrf_token": csrf})
        if signed.status_code != 303:
            raise RuntimeError(f"portal sign-in failed: {signed.status_code}")
        while not stop.is_set():
            try:
                async with browser.stream("GET", "/portal/alerts/stream") as stream:
                    kind = None
                    async for line in stream.aiter_lines():
                        connected.set()
                        if stop.is_set():
                            return
                        if line.startswith("event:"):
                            kind = line.split(":", 1)[1].strip()
                        elif line.startswith("data:") and kind == "alert":
                            events.put_nowait((time.monotonic(), json.loads(line.split(":", 1)[1])))
            except httpx.TransportError:
                await asyncio.sleep(1)  # the server restarts its feed after a database restart


def verify_rows(database_url: str, workdir: Path, answered_ids: list[str]) -> dict[str, int]:
    """Every 201 has its row; no check-in was written twice (one row per Idempotency-Key)."""
    code = """
import json, sys
from sqlalchemy import text
from service.db import get_engine
ids = json.load(sys.stdin)
with get_engine().connect() as c:
    rows = c.execute(text("SELECT count(*) FROM checkin")).scalar()
    keys = c.execute(text("SELECT count(*) FROM idempotency_key WHERE scope = 'checkin'")).scalar()
    found = 0
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ",".join(f":p{n}" for n in range(len(chunk)))
        found += c.execute(text(f"SELECT count(*) FROM checkin WHERE id IN ({marks})"),
                           {f"p{n}": v for n, v in enumerate(chunk)}).scalar()
print(json.dumps({"rows": rows, "keys": keys, "found": found}))
"""
    done = subprocess.run(
        [str(Path(TANDEM).with_name("python")), "-c", code],
        input=json.dumps(answered_ids),
        env=server_env(database_url, workdir),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "rows": data["rows"],
        "answered_201": len(answered_ids),
        "lost (201 without a row)": len(set(answered_ids)) - data["found"],
        "doubled (rows without their own key)": data["rows"] - data["keys"],
        "written but never answered 201": data["rows"] - len(set(answered_ids)),
    }


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="tandem-bench-"))


def cpu_count() -> int:
    return os.cpu_count() or 1


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by a process and its live descendants, from /proc: the
    work a request costs, which a busy machine stretches in wall time but not in CPU time."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime, stime
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(used.get(pid, 0) for pid in tree) / ticks
