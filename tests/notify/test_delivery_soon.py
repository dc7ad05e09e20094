"""A queued message leaves as soon as the transaction that queued it commits (DeliverySoon), not
at the scheduler's next tick: an urgent alert's email must not wait for the clock."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from service import notify
from service.config import get_settings
from service.db import unit_of_work
from service.notify import enqueue_email
from service.notify.events import PostgresListener
from service.scheduler import Leadership, create_scheduler
from service.scheduler.jobs import DELIVERY_JOB


def _queue(session: Session, to: str, key: str) -> None:
    enqueue_email(session, to=to, subject="[Tandem] Urgent alert", text="Open the portal.", dedup_key=key)


def test_a_queued_email_leaves_when_its_transaction_commits_and_a_rolled_back_one_wakes_nothing(
    database_url: str, session: Session, mailbox
) -> None:  # type: ignore[no-untyped-def]
    leadership = Leadership(database_url)
    scheduler = create_scheduler(leadership)
    # No tick during the test: whatever is delivered, the commit's wake delivered.
    scheduler.reschedule_job(DELIVERY_JOB, trigger="interval", seconds=3600)
    wakes: list[str] = []

    def count_wakes(events: list[dict]) -> None:
        wakes.extend(event["kind"] for event in events if event["kind"] == notify.QUEUED)

    listener = None
    if not get_settings().is_sqlite:  # as the app does: other replicas' commits arrive by LISTEN
        listener = PostgresListener(database_url)
        listener.start()
        assert listener.ready.wait(10)
    notify.broker.observe(count_wakes)
    scheduler.start()
    try:
        with unit_of_work(session):
            _queue(session, "dana@example.org", "soon-1")
            _queue(session, "sam@example.org", "soon-2")  # one wake for the transaction, not one per message
        assert {mail["To"] for mail in mailbox.wait_for(2, timeout=15)} == {"dana@example.org", "sam@example.org"}
        assert wakes == [notify.QUEUED]

        with pytest.raises(RuntimeError), unit_of_work(session):
            _queue(session, "nobody@example.org", "soon-3")
            raise RuntimeError("rolled back")
        with unit_of_work(session):
            _queue(session, "lou@example.org", "soon-4")
        mails = mailbox.wait_for(3, timeout=15)
        assert mails[-1]["To"] == "lou@example.org"
        assert wakes == [notify.QUEUED, notify.QUEUED]  # the rolled-back transaction announced nothing
    finally:
        scheduler.shutdown(wait=True)
        notify.broker.unobserve(count_wakes)
        leadership.release()
        if listener is not None:
            listener.stop()
    assert len(mailbox.messages) == 3
