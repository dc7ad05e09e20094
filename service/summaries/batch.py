"""Summaries for every patient of a clinic (or of every clinic) at once, on every core.

Rendering a PDF is CPU-bound Python, so threads would queue on the GIL: the batch uses a pool of
processes. Each worker opens its own engine and sessions (connections never cross a fork: workers
are spawned), renders, stores the summary encrypted with its audit row, and writes the file when
asked. The caller gets one progress tick per patient.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from service.db import reset_engine, session_scope
from service.errors import NotFound
from service.kit.context import Actor
from service.models import Clinic, Patient, PatientStatus
from service.summaries.service import generate_and_store, summary_filename

log = logging.getLogger(__name__)
CHUNK = 4  # patients per task: few enough to keep both cores busy to the end, enough to amortise a task
_BATCHED = (PatientStatus.ACTIVE, PatientStatus.PAUSED)


@dataclass(frozen=True)
class BatchItem:
    patient_id: str
    summary_id: str | None
    path: str | None
    error: str | None = None
    cpu_seconds: float = 0.0  # this patient's share of the worker's CPU: gathering, rendering, storing


@dataclass
class BatchReport:
    items: list[BatchItem] = field(default_factory=list)

    @property
    def made(self) -> int:
        return sum(1 for item in self.items if item.error is None)

    @property
    def cpu_seconds(self) -> float:
        return sum(item.cpu_seconds for item in self.items)

    @property
    def failed(self) -> list[str]:
        return [item.patient_id for item in self.items if item.error is not None]


def patients_to_summarise(session: Session, clinic_id: str | None) -> list[str]:
    """Active and paused patients of the clinic (or of every clinic), in a stable order."""
    query = select(Patient.id).where(col(Patient.status).in_(_BATCHED))
    if clinic_id is not None:
        if session.get(Clinic, clinic_id) is None:
            raise NotFound(f"no clinic {clinic_id!r}")
        query = query.where(Patient.clinic_id == clinic_id)
    return list(session.exec(query.order_by(col(Patient.clinic_id), col(Patient.id))).all())


def generate_batch(
    *,
    clinic_id: str | None,
    actor: Actor,
    since: date | None = None,
    out: Path | None = None,
    workers: int | None = None,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> BatchReport:
    """Summarise every patient of the clinic on `workers` processes (default: every core)."""
    with session_scope() as session:
        patient_ids = patients_to_summarise(session, clinic_id)
    if on_start is not None:
        on_start(len(patient_ids))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    report = BatchReport()
    workers = max(1, min(workers or os.cpu_count() or 1, len(patient_ids) or 1))
    tasks = list(_chunks(patient_ids, CHUNK))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker) as pool:
        pending: set[Future[list[BatchItem]]] = {
            pool.submit(summarise_chunk, chunk, actor, since, str(out) if out else None) for chunk in tasks
        }
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                items = future.result()
                report.items.extend(items)
                if on_progress is not None:
                    on_progress(len(items))
    return report


def _chunks(ids: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _start_worker() -> None:
    reset_engine()  # this process's own engine, opened on first use


def summarise_chunk(patient_ids: list[str], actor: Actor, since: date | None, out: str | None) -> list[BatchItem]:
    """Run in a worker: one summary per patient, each stored in its own transaction."""
    items = []
    with session_scope() as session:
        for patient_id in patient_ids:
            started = time.process_time()
            item = _summarise_one(session, patient_id, actor, since, Path(out) if out else None)
            items.append(replace(item, cpu_seconds=time.process_time() - started))
    return items


def _summarise_one(session: Session, patient_id: str, actor: Actor, since: date | None, out: Path | None) -> BatchItem:
    try:
        patient = session.get(Patient, patient_id)
        if patient is None:
            return BatchItem(patient_id, None, None, "patient no longer exists")
        row, pdf = generate_and_store(session, patient=patient, reason="batch", actor=actor, since=since)
        path = None
        if out is not None:
            target = out / summary_filename(patient, row.period_end)
            target.write_bytes(pdf)
            path = str(target)
        return BatchItem(patient_id, row.id, path)
    except Exception as exc:  # one patient's failure must not stop the clinic's batch
        session.rollback()
        log.exception("batch summary failed for patient %s", patient_id)
        return BatchItem(patient_id, None, None, type(exc).__name__)
