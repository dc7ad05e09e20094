"""Benchmark of concurrent audit writers on PostgreSQL: write transactions per second and latency.

Each writer thread runs, for ``--seconds``, transactions that insert one row into a scratch table
and one audit row through ``service.audit.record``, then commit: the shape of every audited write
in the service. Before issue 17, ``record`` took a global advisory lock and read the last hash, so
writers queued behind one another; now they append unsealed rows and the sealer chains them later.
After the run, it times the sealer over every row written and verifies the chain.

Run from the repository root (PostgreSQL from TANDEM_TEST_DATABASE_URL or --database-url):
    python tests/benchmarks/bench_audit_writers.py [--writers 1,4,16] [--seconds 10]
To measure another checkout (e.g. main, before the change) with the same script:
    python tests/benchmarks/bench_audit_writers.py --code /path/to/checkout
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ADMIN_URL = os.environ.get("TANDEM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass(frozen=True)
class Run:
    writers: int
    seconds: float
    latencies_s: list[float]
    errors: int

    @property
    def per_second(self) -> float:
        return len(self.latencies_s) / self.seconds

    def percentile_ms(self, p: int) -> float:
        if len(self.latencies_s) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies_s, n=100)[p - 1] * 1000


def _urls(admin_url: str, name: str) -> tuple[str, str, str]:
    """The admin connection, the scratch database's connection (psycopg) and its SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url).set(drivername="postgresql")
    bench = admin.set(database=name)
    return (
        admin.render_as_string(hide_password=False),
        bench.render_as_string(hide_password=False),
        bench.set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
    )


def write_for(url: str, writers: int, seconds: float) -> Run:
    from sqlalchemy import create_engine, text
    from sqlmodel import Session

    from service import audit
    from service.db import unit_of_work
    from tests.factories import SYSTEM

    engine = create_engine(url, pool_size=writers + 1, max_overflow=0)
    latencies: list[list[float]] = [[] for _ in range(writers)]
    errors = [0] * writers
    start = threading.Barrier(writers + 1)
    deadline = [0.0]

    def writer(index: int) -> None:
        session = Session(engine)
        start.wait()
        n = 0
        while time.perf_counter() < deadline[0]:
            began = time.perf_counter()
            try:
                with unit_of_work(session):
                    session.execute(text("INSERT INTO bench_item (writer, n) VALUES (:w, :n)"), {"w": index, "n": n})
                    audit.record(
                        session, actor=SYSTEM, action="bench.write", entity_type="bench_item", entity_id=str(n)
                    )
            except Exception:
                errors[index] += 1
                continue
            latencies[index].append(time.perf_counter() - began)
            n += 1
        session.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    engine.dispose()
    return Run(writers, elapsed, [x for per in latencies for x in per], sum(errors))


def seal_and_verify(url: str) -> None:
    from sqlmodel import Session

    from service import audit

    if not hasattr(audit, "seal"):
        return  # an older checkout: no sealer to time
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with Session(engine) as session:
        began = time.perf_counter()
        report = audit.seal(session)
        sealed_in = time.perf_counter() - began
        began = time.perf_counter()
        check = audit.verify_chain(session, checkpoints=Path(os.devnull))
        verified_in = time.perf_counter() - began
    engine.dispose()
    print(f"sealer: {report.sealed} rows in {sealed_in:.2f} s ({report.sealed / max(sealed_in, 1e-9):,.0f} rows/s)")
    print(f"verify: {check.rows} rows in {verified_in:.2f} s, intact: {check.ok}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", default="1,4,16", help="comma-separated numbers of concurrent writers")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each run writes")
    parser.add_argument("--database-url", default=DEFAULT_ADMIN_URL, help="a PostgreSQL server (admin connection)")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose service package to measure")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.code.resolve()))
    os.environ.setdefault("TANDEM_ENV", "test")
    os.environ["TANDEM_SCHEDULER_ENABLED"] = "false"

    import psycopg

    import service
    from service.models.migrate import upgrade

    print(f"code: {Path(service.__file__).resolve().parent.parent}")
    counts = [int(part) for part in args.writers.split(",")]
    name = f"tandem_bench_audit_{uuid.uuid4().hex[:8]}"
    admin, conninfo, url = _urls(args.database_url, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        upgrade(url)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("CREATE TABLE bench_item (id bigserial PRIMARY KEY, writer int NOT NULL, n int NOT NULL)")
        print(f"{'writers':>8} {'tx/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for writers in counts:
            run = write_for(url, writers, args.seconds)
            print(
                f"{run.writers:>8} {run.per_second:>9,.0f} {run.percentile_ms(50):>8.1f} "
                f"{run.percentile_ms(99):>8.1f} {run.errors:>7}"
            )
        seal_and_verify(url)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
