"""Scheduled jobs: plain functions that call services. Each opens its own sessions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from service import notify
from service.alerts.escalation import escalate_due
from service.alerts.trend_rules import run_trend_rules
from service.db import session_scope
from service.security import rate_limits
from service.summaries import scheduled

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


def escalate_alerts() -> None:
    with session_scope() as session:
        escalated = escalate_due(session)
    if escalated:
        log.warning("escalated %d unacknowledged alert(s)", len(escalated))


def prepare_summaries() -> None:
    """Summaries for appointments coming up within TANDEM_SUMMARY_HOURS_BEFORE_APPOINTMENT hours."""
    with session_scope() as session:
        made = scheduled.prepare_due(session)
    if made:
        log.info("prepared %d summary(ies) ahead of appointments", len(made))


def screen_trends() -> None:
    with session_scope() as session:
        raised = run_trend_rules(session)
    if raised:
        log.info("trend rules raised or updated %d alert(s)", len(raised))


def purge_rate_limits() -> None:
    purged = rate_limits.purge_expired()
    if purged:
        log.info("rate limits: forgot %d old window(s)", purged)


JOBS: list[Job] = [
    Job("screen_trends", screen_trends, every_seconds=3600),
    Job("escalate_alerts", escalate_alerts, every_seconds=30),
    Job("deliver_outbox", deliver_outbox, every_seconds=5),
    Job("prepare_summaries", prepare_summaries, every_seconds=300),
    Job("purge_rate_limits", purge_rate_limits, every_seconds=3600),
]
