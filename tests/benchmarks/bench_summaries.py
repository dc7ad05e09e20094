"""Benchmark of PDF summaries: one 90-day summary, then a clinic's batch on a process pool.

Targets: a 90-day summary renders in under 1 s (median) on this machine; the batch makes 1,000
summaries in under 5 minutes on 2 cores. Prints its figures; it is not a timed test.

Run from the repository root, on a fresh SQLite database in a temporary folder:
    python tests/benchmarks/bench_summaries.py [--renders 15] [--patients 1000] [--workers 2] [--no-exercises]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SINGLE_TARGET_SECONDS = 1.0
BATCH_TARGET_SECONDS = 300.0
BATCH_TARGET_COUNT = 1000
DAYS = 90


def _database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'bench.db'}"
    os.environ["TANDEM_DATABASE_URL"] = url
    os.environ["TANDEM_ENV"] = "test"
    os.environ["TANDEM_SCHEDULER_ENABLED"] = "false"
    from service.config import get_settings
    from service.db import reset_engine
    from service.models.migrate import upgrade

    get_settings.cache_clear()
    reset_engine()
    upgrade(url)
    return url


def _seed(patients: int, *, exercises: bool) -> tuple[str, list[str]]:
    """A clinic with `patients` active patients, each with 90 days of check-ins, questionnaires and
    alerts, and (with `exercises`) three weeks of assigned exercises done through the session service."""
    from service.db import session_scope, unit_of_work
    from service.demo.seed import seed_exercises
    from service.models import PatientStatus
    from service.onboarding import patients as onboarding
    from tests.factories import SYSTEM, create_clinic
    from tests.summaries.history import seed_story

    ids = []
    batch: list = []
    with session_scope() as session:
        setup = create_clinic(session, name="Benchmark Clinic", slug="bench")
        for number in range(patients):
            made = onboarding.onboard_patient(
                session,
                clinic_id=setup.clinic.id,
                clinician=setup.clinician,
                display_name=f"Patient {number}",
                actor=SYSTEM,
            )
            with unit_of_work(session):
                made.patient.status = PatientStatus.ACTIVE
            seed_story(session, made.patient, days=DAYS, seed=number, clinician=setup.clinician)
            ids.append(made.patient.id)
            batch.append(made.patient)
            if exercises and len(batch) == 50:
                seed_exercises(session, batch)  # the demo's five plans in turn
                batch = []
            if (number + 1) % 100 == 0:
                print(f"  seeded {number + 1} patients", flush=True)
        if exercises and batch:
            seed_exercises(session, batch)
        return setup.clinic.id, ids


def bench_single(patient_id: str, renders: int) -> None:
    from service.db import session_scope
    from service.models import Patient
    from service.summaries.content import build_summary
    from service.summaries.pdf import render_pdf

    builds, pdfs, cpu = [], [], []
    with session_scope() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        render_pdf(build_summary(session, patient, days=DAYS))  # warm-up: fonts, templates, stylesheet
        for _ in range(renders):
            started, cpu_started = time.perf_counter(), time.process_time()
            view = build_summary(session, patient, days=DAYS)
            built = time.perf_counter()
            pdf = render_pdf(view)
            pdfs.append(time.perf_counter() - built)
            builds.append(built - started)
            cpu.append(time.process_time() - cpu_started)
    total = [b + p for b, p in zip(builds, pdfs, strict=True)]
    median = statistics.median(total)
    verdict = "met" if median < SINGLE_TARGET_SECONDS else "NOT met"
    print(f"\n90-day summary, {renders} renders after a warm-up: {_pages(pdf)} pages, {len(pdf):,} bytes")
    print(f"  median {median:.3f} s (gather {statistics.median(builds):.3f} s + PDF {statistics.median(pdfs):.3f} s)")
    print(f"  min {min(total):.3f} s, max {max(total):.3f} s")
    print(f"  CPU of this process: median {statistics.median(cpu):.3f} s, min {min(cpu):.3f} s")
    print(f"  target: median under {SINGLE_TARGET_SECONDS:.1f} s -> {verdict}")


def _pages(pdf: bytes) -> int:
    from io import BytesIO

    from pypdf import PdfReader

    return len(PdfReader(BytesIO(pdf)).pages)


def bench_batch(clinic_id: str, workers: int, out: Path | None) -> None:
    from service.kit.context import Actor
    from service.summaries.batch import generate_batch

    started = time.perf_counter()
    report = generate_batch(clinic_id=clinic_id, actor=Actor.system("bench"), out=out, workers=workers)
    seconds = time.perf_counter() - started
    made = report.made
    projected = seconds / made * BATCH_TARGET_COUNT if made else float("inf")
    print(f"\nbatch: {made} summaries ({len(report.failed)} failed) on {workers} processes in {seconds:.1f} s")
    print(f"  {made / seconds * 60:.0f} summaries per minute; {seconds / made:.3f} s of wall clock each")
    cpu = report.cpu_seconds
    print(f"  worker CPU: {cpu:.0f} s in all, {cpu / made:.3f} s per summary (gather, render, encrypt, store, audit)")
    print(f"  projected for {BATCH_TARGET_COUNT}: {projected:.0f} s of wall clock on this machine now")
    verdict = "met" if projected < BATCH_TARGET_SECONDS else "NOT met"
    print(f"  target: {BATCH_TARGET_COUNT} in under {BATCH_TARGET_SECONDS:.0f} s -> {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=15, help="single-summary renders to time")
    parser.add_argument("--patients", type=int, default=BATCH_TARGET_COUNT, help="patients in the batch (0: skip it)")
    parser.add_argument("--workers", type=int, default=2, help="processes for the batch")
    parser.add_argument("--out", type=Path, default=None, help="also write the batch's PDFs here")
    parser.add_argument("--no-exercises", action="store_true", help="seed no exercises (faster seeding)")
    args = parser.parse_args()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load}; Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as folder:
        _database(Path(folder))
        started = time.perf_counter()
        clinic_id, ids = _seed(max(1, args.patients), exercises=not args.no_exercises)
        extra = "" if args.no_exercises else " and 3 weeks of exercises"
        print(f"seeded {len(ids)} patients with {DAYS} days each{extra} in {time.perf_counter() - started:.0f} s")
        bench_single(ids[0], args.renders)
        if args.patients:
            bench_batch(clinic_id, args.workers, args.out)


if __name__ == "__main__":
    main()
