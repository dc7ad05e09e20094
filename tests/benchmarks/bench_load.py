"""Load and fault benchmark: a real `tandem serve` on loopback, a crowd of clients posting check-ins,
a crisis prober and a clinician's live portal feed. Run on demand; prints figures; not a timed test.

    # PostgreSQL (a throwaway cluster on a free port), 2 workers, 200 clients for 60 s
    .venv/bin/python -m tests.benchmarks.bench_load --db postgres --workers 2 --clients 200 --seconds 60
    # ... with a PostgreSQL restart 30 s in
    .venv/bin/python -m tests.benchmarks.bench_load --db postgres --workers 2 --clients 50 --seconds 60 --restart-at 30
    # SQLite (the embedded default), 50 clients for 60 s
    .venv/bin/python -m tests.benchmarks.bench_load --db sqlite --clients 50 --seconds 60
    # Tandem's ordinary check-in against a bare FastAPI + SQLModel insert, same run, same server setup
    .venv/bin/python -m tests.benchmarks.bench_load --db postgres --workers 2 --clients 0 --capacity 40

To measure another checkout with the same benchmark (main before a change, say):
    git archive main | tar -x -C /tmp/base
    BENCH_CODE_ROOT=/tmp/base .venv/bin/python -m tests.benchmarks.bench_load ...

Targets (issue 17): 0 x 5xx, 0 lost or doubled check-ins, check-in p99 <= 1 s, crisis -> live portal
event p99 <= 500 ms, ordinary check-in >= 0.6x the bare insert. The machine's load average is
printed beside the figures: compare runs only at similar load, and prefer the ratios of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from tests.benchmarks import loadkit
from tests.benchmarks.loadkit import CrisisTally, Tally


async def _crowd(
    base: str,
    seeded: loadkit.Seeded,
    *,
    clients: int,
    seconds: float,
    think: float,
    crisis_every: float,
    restart: tuple[loadkit.Cluster, float] | None,
) -> tuple[Tally, CrisisTally, dict[str, Any]]:
    tally, crisis = Tally(), CrisisTally()
    events: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
    stop = asyncio.Event()
    connected = asyncio.Event()
    feed = asyncio.create_task(
        loadkit.live_feed(base, seeded.clinician_email, seeded.clinician_password, events, stop, connected)
    )
    await asyncio.wait_for(connected.wait(), timeout=60)  # the feed is subscribed before anything is sent
    started = time.monotonic()
    until = started + seconds
    tasks = [
        asyncio.create_task(loadkit.crowd_client(base, token, tally, until=until, think=think))
        for token in seeded.tokens[:clients]
    ]
    tasks.append(
        asyncio.create_task(
            loadkit.crisis_prober(base, seeded.crisis_tokens, events, crisis, until=until, every=crisis_every)
        )
    )
    faults: dict[str, Any] = {}
    if restart is not None:
        cluster, at = restart
        await asyncio.sleep(at)
        faults["restart_seconds"] = await asyncio.to_thread(cluster.restart)
        faults["restarted_at"] = round(time.monotonic() - started, 1)
    await asyncio.gather(*tasks)
    faults["elapsed"] = time.monotonic() - started
    stop.set()
    feed.cancel()
    return tally, crisis, faults


async def _capacity(base: str, tokens: list[str], *, clients: int, seconds: float) -> Tally:
    """Closed loop, no think time: how many ordinary check-ins per second the server completes."""
    tally = Tally()
    until = time.monotonic() + seconds
    await asyncio.gather(
        *(loadkit.crowd_client(base, tokens[i % len(tokens)], tally, until=until, think=0) for i in range(clients))
    )
    return tally


class _CpuMeter:
    """CPU time the server (all its workers) and PostgreSQL spend from now on, per request answered:
    the cost of a request, which a machine shared with other work stretches in wall time only."""

    def __init__(self, server: loadkit.Server, cluster: loadkit.Cluster | None) -> None:
        self.server_pid = server.process.pid
        self.postmaster_pid = cluster.postmaster_pid if cluster is not None else None
        self.server, self.database = self._now()

    def _now(self) -> tuple[float, float]:
        database = loadkit.tree_cpu_seconds(self.postmaster_pid) if self.postmaster_pid else 0.0
        return loadkit.tree_cpu_seconds(self.server_pid), database

    def per_request(self, answered: int) -> str:
        server, database = self._now()
        n = max(answered, 1)
        app_ms, db_ms = (server - self.server) / n * 1000, (database - self.database) / n * 1000
        return f"CPU per answered request: {app_ms:.1f} ms server + {db_ms:.1f} ms PostgreSQL ({answered} requests)"


def _report(title: str, tally: Tally, seconds: float) -> None:
    rate = len(tally.latencies) / seconds if seconds else 0
    print(f"{title}: {len(tally.latencies)} check-ins answered 201 in {seconds:.0f} s = {rate:.1f}/s")
    print(f"  latency (to the 201, retries included): {loadkit.summary(tally.latencies)}")
    print(
        f"  answers: {dict(sorted(tally.statuses.items()))}; 5xx={tally.five_xx} (503={tally.count(503)}, "
        f"500={tally.count(500)}); dropped connections={tally.transport_errors}; gave up={tally.gave_up}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a client's check-ins")
    parser.add_argument("--crisis-every", type=float, default=2.0, help="seconds between crisis check-ins")
    parser.add_argument("--restart-at", type=float, default=None, help="restart PostgreSQL this many seconds in")
    parser.add_argument("--capacity", type=int, default=0, help="closed-loop clients for the bare comparison")
    parser.add_argument("--capacity-seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=20, help="TANDEM_REQUEST_THREADS (and the bare app's)")
    args = parser.parse_args()
    if args.clients > 400 or args.seconds > 600:
        raise SystemExit("bounded: at most 400 clients and 600 seconds")

    work = loadkit.workdir()
    print(f"load average before: {loadkit.load_average()} ({loadkit.cpu_count()} CPUs); work dir {work}")
    if args.db == "postgres":
        with loadkit.throwaway_cluster(max_connections=60 * max(args.workers, 2) + 40) as cluster:
            _run(args, cluster.url, work, cluster)
    else:
        if args.workers != 1 or args.restart_at is not None:
            raise SystemExit("SQLite runs one worker and has no server to restart")
        _run(args, f"sqlite:///{work / 'tandem.db'}", work, None)
    print(f"load average after: {loadkit.load_average()}")


def _run(args: argparse.Namespace, url: str, work: Path, cluster: loadkit.Cluster | None) -> None:
    loadkit.migrate(url, work)
    crisis_count = int(args.seconds / args.crisis_every) + 2
    seeded = loadkit.seed(url, work, clients=max(args.clients, args.capacity, 1), crisis_clients=crisis_count)
    env = {"TANDEM_REQUEST_THREADS": str(args.threads)}
    with loadkit.tandem_serve(url, work, workers=args.workers, **env) as server:
        print(
            f"tandem serve --workers {args.workers} on {args.db}: {args.clients} clients x {args.seconds:.0f} s, "
            f"think {args.think} s, a crisis check-in every {args.crisis_every} s"
        )
        restart = (cluster, args.restart_at) if cluster is not None and args.restart_at is not None else None
        tally = crisis = None
        if args.clients:
            cpu = _CpuMeter(server, cluster)
            tally, crisis, faults = asyncio.run(
                _crowd(
                    server.base,
                    seeded,
                    clients=args.clients,
                    seconds=args.seconds,
                    think=args.think,
                    crisis_every=args.crisis_every,
                    restart=restart,
                )
            )
            print(f"load average at the end of the crowd: {loadkit.load_average()}")
            _report("ordinary check-ins", tally, faults["elapsed"])
            print(f"  {cpu.per_request(len(tally.latencies) + len(crisis.answers))}")
            print(
                f"crisis check-ins: answers {dict(sorted(crisis.statuses.items()))}; "
                f"without crisis lines={crisis.without_lines}; {loadkit.summary(crisis.answers)}"
            )
            print(f"  crisis -> live portal event: {loadkit.summary(crisis.live)}; missed={crisis.missed_events}")
            if "restart_seconds" in faults:
                print(f"  PostgreSQL restarted at {faults['restarted_at']} s (took {faults['restart_seconds']:.1f} s)")
            print(
                f"  server log: {server.count_in_log('QueuePool limit')} pool timeouts, "
                f"{server.count_in_log('Traceback')} tracebacks"
            )
        tandem_capacity = None
        if args.capacity:
            cpu = _CpuMeter(server, cluster)
            tandem_capacity = asyncio.run(
                _capacity(server.base, seeded.tokens, clients=args.capacity, seconds=args.capacity_seconds)
            )
            tandem_cpu = cpu.per_request(len(tandem_capacity.latencies))
    if tally is not None and crisis is not None:
        checks = loadkit.verify_rows(url, work, tally.answered_ids + crisis.answered_ids)
        print("rows: " + ", ".join(f"{k}={v}" for k, v in checks.items()))
    if args.capacity and tandem_capacity is not None:
        with loadkit.bare_serve(url, work, workers=args.workers, threads=args.threads) as bare:
            cpu = _CpuMeter(bare, cluster)
            bare_capacity = asyncio.run(
                _capacity(bare.base, seeded.tokens, clients=args.capacity, seconds=args.capacity_seconds)
            )
            bare_cpu = cpu.per_request(len(bare_capacity.latencies))
        _report(
            f"capacity, Tandem ordinary check-in ({args.capacity} closed-loop clients)",
            tandem_capacity,
            args.capacity_seconds,
        )
        _report("capacity, bare FastAPI + SQLModel insert (same clients)", bare_capacity, args.capacity_seconds)
        ratio = len(tandem_capacity.latencies) / max(1, len(bare_capacity.latencies))
        print(f"ratio Tandem / bare = {ratio:.2f} (target >= 0.6); load average {loadkit.load_average()}")
        print(f"  Tandem {tandem_cpu}\n  bare {bare_cpu}")


if __name__ == "__main__":
    main()
