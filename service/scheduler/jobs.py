"""Scheduled jobs: plain functions that call services. Each opens its own sessions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from service import audit, notify
from service.alerts import delivery, digest
from service.alerts.escalation import escalate_due
from service.alerts.trend_rules import run_trend_rules
from service.caseload import erasure
from service.db import session_scope
from service.reminders import service as reminders
from service.security import rate_limits
from service.summaries import scheduled

log = logging.getLogger(__name__)


# Also run as soon as a message is queued (runtime.DeliverySoon); the tick retries and catches up.
DELIVERY_JOB = "deliver_outbox"


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


def page_admins_for_undelivered() -> None:
    """A notice failing past its alert's deadline: the clinic's admins hear through another channel."""
    with session_scope() as session:
        paged = delivery.page_admins_for_undelivered(session)
    if paged:
        log.error("%d alert notice(s) undelivered past their deadline; admins paged", len(paged))


def send_routine_digests() -> None:
    """Each morning, one email of routine alerts for the staff who chose the daily digest."""
    with session_scope() as session:
        queued = digest.send_due(session)
    if queued:
        log.info("queued %d routine digest(s)", queued)


def prepare_summaries() -> None:
    """Summaries for appointments coming up within TANDEM_SUMMARY_HOURS_BEFORE_APPOINTMENT hours."""
    with session_scope() as session:
        made = scheduled.prepare_due(session)
    if made:
        log.info("prepared %d summary(ies) ahead of appointments", len(made))


def seal_audit() -> None:
    """Chain the audit rows written since the last run; publish a signed checkpoint when due."""
    with session_scope() as session:
        report = audit.seal(session)
        if not report.busy:
            audit.checkpoint_if_due(session, report.head)
    if report.sealed:
        log.debug("audit: sealed %d row(s), chain at %d", report.sealed, report.head.seq)


def screen_trends() -> None:
    with session_scope() as session:
        raised = run_trend_rules(session)
    if raised:
        log.info("trend rules raised or updated %d alert(s)", len(raised))


def send_reminders() -> None:
    """Check-in reminders at each client's chosen local times; the outbox then delivers them."""
    with session_scope() as session:
        queued = reminders.queue_due_reminders(session)
    if queued:
        log.info("queued %d reminder(s)", queued)


def erase_after_retention() -> None:
    """Erasure requests kept under art. 17(3) are carried out once the clinic's retention period ends."""
    with session_scope() as session:
        erased = erasure.carry_out_kept_due(session)
    if erased:
        log.info("carried out %d erasure request(s) at the end of their retention period", len(erased))


def purge_rate_limits() -> None:
    purged = rate_limits.purge_expired()
    if purged:
        log.info("rate limits: forgot %d old window(s)", purged)


JOBS: list[Job] = [
    Job("send_reminders", send_reminders, every_seconds=60),
    Job("screen_trends", screen_trends, every_seconds=3600),
    Job("escalate_alerts", escalate_alerts, every_seconds=30),
    Job("page_admins_for_undelivered", page_admins_for_undelivered, every_seconds=60),
    Job("send_routine_digests", send_routine_digests, every_seconds=900),
    Job(DELIVERY_JOB, deliver_outbox, every_seconds=5),
    Job("prepare_summaries", prepare_summaries, every_seconds=300),
    Job("seal_audit", seal_audit, every_seconds=5),
    Job("purge_rate_limits", purge_rate_limits, every_seconds=3600),
    Job("erase_after_retention", erase_after_retention, every_seconds=3600),
]
