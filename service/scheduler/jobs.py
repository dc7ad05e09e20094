"""Scheduled jobs: plain functions that call services. Each opens its own sessions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from service import notify

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[], object]
    every_seconds: int


def deliver_outbox() -> None:
    report = notify.deliver_due()
    if report.sent or report.retried or report.dead:
        log.info("outbox: %d sent, %d to retry, %d given up", len(report.sent), len(report.retried), len(report.dead))


JOBS: list[Job] = [
    Job("deliver_outbox", deliver_outbox, every_seconds=5),
]
