"""Benchmark of the text risk screen (rules, frames and the learned model): messages per second and
per-message latency on one core, and the memory the loaded models take.

Screens the labelled set (tests/risk/labelled: short texts, check-in notes and long journal notes),
repeated to about 50,000 messages, in one thread.
Run from the repository root: `python -m tests.benchmarks.bench_risk [--messages N] [--numpy]`
(`--numpy`: the reader used where the compiled one was not built).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "tests" / "risk" / "labelled"
TARGET_PER_SECOND = 5_000
TARGET_MEDIAN_US = 500
TARGET_MODEL_MB = 100


@dataclass(frozen=True)
class BenchResult:
    messages: int
    seconds: float  # wall clock
    cpu_seconds: float  # this process on its core: unaffected by other work on a shared machine
    latencies_ns: list[int]

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    @property
    def per_cpu_second(self) -> float:
        return self.messages / self.cpu_seconds

    def median_us(self) -> float:
        return statistics.median(self.latencies_ns) / 1000

    def p99_us(self) -> float:
        return statistics.quantiles(self.latencies_ns, n=100)[98] / 1000


def load_messages(count: int) -> list[tuple[str, str]]:
    """The labelled messages as (text, lang), repeated until there are `count` of them."""
    from service.risk.evaluation import load_labelled

    labelled = [(case.text, case.lang) for case in load_labelled(LABELLED)]
    repeats = -(-count // len(labelled))
    return (labelled * repeats)[:count]


def run(messages: list[tuple[str, str]]) -> BenchResult:
    from service.risk import screen_text

    latencies: list[int] = []
    clock = time.perf_counter_ns
    started, cpu_started = clock(), time.process_time()
    for text, lang in messages:
        before = clock()
        screen_text(text, lang)
        latencies.append(clock() - before)
    return BenchResult(len(messages), (clock() - started) / 1e9, time.process_time() - cpu_started, latencies)


def model_memory_mb() -> tuple[float, float]:
    """Memory taken by loading the learned models (both languages) once more, in MB: the growth of the
    process's resident memory (first, with nothing else running: tracemalloc's own bookkeeping would
    count), then what stays allocated once loaded (tracemalloc: Python objects and numpy's arrays)."""
    import gc
    import tracemalloc

    from service.risk.model import load_models

    def resident() -> float:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

    gc.collect()
    rss_before = resident()
    first = load_models()
    gc.collect()
    grown = resident() - rss_before
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    models = load_models()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert models and first
    return (after - before) / 1e6, grown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000, help="how many messages to screen")
    parser.add_argument(
        "--numpy", action="store_true", help="read with numpy alone, as where service/risk/_runs.c was not built"
    )
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from service.risk import model

    if args.numpy:
        model._runs = None  # the fallback model.py takes when the compiled reader is missing
    print(f"reader: {'numpy' if model._runs is None else 'compiled (service/risk/_runs.c)'}")
    messages = load_messages(args.messages)
    run(messages[:1000])  # warm up caches before measuring
    result = run(messages)
    print(f"screened {result.messages} messages in {result.seconds:.2f} s, {result.cpu_seconds:.2f} s of CPU")
    print(f"throughput: {result.per_second:,.0f} messages/second (wall clock)")
    print(f"throughput: {result.per_cpu_second:,.0f} per CPU second (one core, whatever the machine load)")
    print(f"target: {TARGET_PER_SECOND:,} messages/second on one core")
    print(f"latency per message: median {result.median_us():.1f} us, p99 {result.p99_us():.1f} us")
    print(f"target: median under {TARGET_MEDIAN_US} us")
    traced, resident = model_memory_mb()
    print(
        f"memory of the loaded models: {traced:.1f} MB allocated once loaded, {resident:.1f} MB resident "
        f"(target under {TARGET_MODEL_MB} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
