from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.db import unit_of_work
from service.models import OutboxMessage, WebhookEndpoint
from service.models.base import utcnow
from service.notify import deliver_due, enqueue_email, enqueue_webhooks, webhooks
from service.notify.outbox import MAX_ATTEMPTS
from tests.factories import create_clinic
from tests.support.server import tandem_env
from tests.support.webhook_receiver import webhook_receiver


def test_email_is_delivered_over_smtp_with_a_stable_message_id(session: Session, mailbox) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(session):
        enqueue_email(session, to="dr@example.org", subject="Urgent alert", text="Open the portal.", dedup_key="a1")
        # The same notification queued again (a retried request) is not queued twice.
        assert enqueue_email(session, to="dr@example.org", subject="Urgent alert", text="x", dedup_key="a1") is None
    report = deliver_due()
    assert len(report.sent) == 1
    [message] = mailbox.wait_for(1)
    assert message["To"] == "dr@example.org" and message["Subject"] == "Urgent alert"
    assert message["Message-ID"].endswith("@tandem>")
    assert deliver_due().sent == []  # nothing left


def test_a_rolled_back_transaction_queues_nothing(session: Session) -> None:
    try:
        with unit_of_work(session):
            enqueue_email(session, to="dr@example.org", subject="s", text="t", dedup_key="rolled")
            raise RuntimeError("the write failed")
    except RuntimeError:
        pass
    assert session.exec(select(OutboxMessage)).all() == []


def test_smtp_outage_is_retried_with_backoff_then_delivered(session: Session, mailbox, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from service.config import get_settings

    with unit_of_work(session):
        enqueue_email(session, to="dr@example.org", subject="s", text="t", dedup_key="retry")
    real_port = get_settings().smtp_port
    monkeypatch.setenv("TANDEM_SMTP_PORT", "1")  # nothing listens there
    get_settings.cache_clear()
    first = deliver_due()
    assert first.retried and not first.sent
    session.expire_all()
    row = session.exec(select(OutboxMessage)).one()
    assert row.attempts == 1 and row.next_attempt_at > utcnow() and "Error" in (row.last_error or "")
    monkeypatch.setenv("TANDEM_SMTP_PORT", str(real_port))
    get_settings.cache_clear()
    assert deliver_due().sent == []  # not due yet
    assert len(deliver_due(now=utcnow() + timedelta(minutes=5)).sent) == 1
    assert len(mailbox.wait_for(1)) == 1


def test_a_message_that_keeps_failing_is_given_up_and_marked_dead(session: Session) -> None:
    with unit_of_work(session):
        enqueue_email(session, to="dr@example.org", subject="s", text="t", dedup_key="dead")

    def always_fails(_session, _message) -> None:  # type: ignore[no-untyped-def]
        raise ConnectionError("smtp down")

    moment = utcnow()
    for _ in range(MAX_ATTEMPTS):
        deliver_due(now=moment, sender=always_fails)
        moment += timedelta(hours=2)
    session.expire_all()
    assert session.exec(select(OutboxMessage)).one().status == "dead"


def test_webhooks_are_signed_retried_and_keep_their_event_id(session: Session) -> None:
    setup = create_clinic(session)
    with webhook_receiver() as receiver:
        with unit_of_work(session):
            session.add(WebhookEndpoint(clinic_id=setup.clinic.id, url=receiver.url, secret="whsec-test-123"))
        with unit_of_work(session):
            queued = enqueue_webhooks(
                session,
                clinic_id=setup.clinic.id,
                event_type="alert.created",
                data={"alert_id": "A1", "severity": "urgent"},
                dedup_key="alert:A1:created",
            )
        assert len(queued) == 1
        receiver.fail_next = 1
        assert deliver_due().retried
        assert deliver_due(now=utcnow() + timedelta(minutes=1)).sent
        [(headers, body)] = receiver.deliveries
        assert webhooks.verify("whsec-test-123", body, headers["Tandem-Signature"])
        assert not webhooks.verify("wrong-secret", body, headers["Tandem-Signature"])
        payload = json.loads(body)
        assert payload["type"] == "alert.created" and payload["data"]["severity"] == "urgent"
        assert headers["Tandem-Event-Id"] == payload["id"]


def test_a_stale_signature_is_refused() -> None:
    body = b'{"id": "evt_1"}'
    header = webhooks.sign("s", body, timestamp=1_000_000)
    assert webhooks.verify("s", body, header, now=1_000_100)
    assert not webhooks.verify("s", body, header, now=1_000_000 + 3600)


CRASH_AFTER_COMMIT = """
import os
from service.db import new_session, unit_of_work
from service.notify import enqueue_email
with new_session() as session:
    with unit_of_work(session):
        enqueue_email(session, to="oncall@example.org", subject="Urgent", text="Open the portal.", dedup_key="crash")
os._exit(9)  # the process dies after the commit, before anything is delivered
"""

CRASH_DURING_DELIVERY = """
import os
from service.notify import deliver_due
from service.notify.outbox import _send
def send_then_die(session, message):
    _send(session, message)
    os._exit(9)  # sent, but the process dies before recording it
deliver_due(sender=send_then_die)
"""


def test_a_crash_after_commit_loses_nothing_and_a_crash_mid_delivery_resends_with_the_same_id(
    database_url: str,
    mailbox,  # type: ignore[no-untyped-def]
) -> None:
    env = tandem_env()
    assert subprocess.run([sys.executable, "-c", CRASH_AFTER_COMMIT], env=env, timeout=60).returncode == 9
    assert subprocess.run([sys.executable, "-c", CRASH_DURING_DELIVERY], env=env, timeout=60).returncode == 9
    assert len(mailbox.wait_for(1)) == 1
    assert len(deliver_due().sent) == 1  # at least once: the unrecorded delivery goes again...
    first, second = mailbox.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"]  # ...with the same id, so receivers can drop it
    assert deliver_due().sent == []


def test_a_text_messages_number_is_encrypted_in_the_outbox_and_dropped_once_sent(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text as sql

    from service.config import get_settings
    from service.notify import enqueue_sms
    from tests.support.sms_provider import SID, TOKEN, sms_provider

    number = "+447700900123"

    def stored_payloads() -> str:
        return " ".join(str(p) for (p,) in session.execute(sql("SELECT payload FROM outbox_message")))

    with sms_provider() as texts:
        for name, value in (("API_BASE", texts.base), ("ACCOUNT_SID", SID), ("AUTH_TOKEN", TOKEN)):
            monkeypatch.setenv(f"TANDEM_SMS_{name}", value)
        monkeypatch.setenv("TANDEM_SMS_FROM", "+15005550006")
        get_settings.cache_clear()
        with unit_of_work(session):
            enqueue_sms(session, to=number, text="Urgent alert: open the portal", dedup_key="alert-1")
            # A row queued before numbers were encrypted still goes out.
            legacy = {"to": "+447700900999", "text": "x"}
            session.add(OutboxMessage(kind="sms", dedup_key="sms:legacy", recipient="sms", payload=legacy))
        assert "7700900123" not in stored_payloads() and "7700900999" in stored_payloads()
        assert len(deliver_due().sent) == 2
        assert sorted(sent["To"] for sent in texts.sent) == ["+447700900123", "+447700900999"]
    get_settings.cache_clear()
    assert "7700900" not in stored_payloads()
    assert "to_encrypted" not in stored_payloads()


def test_a_message_that_forgets_its_recipient_does_so_even_when_given_up(session: Session) -> None:
    with unit_of_work(session):
        enqueue_email(session, to="gone@example.org", subject="s", text="t", dedup_key="d", forget_after_sending=True)

    def failing(session: Session, message: OutboxMessage) -> None:
        raise ConnectionError("550 no such user gone@example.org")

    moment = utcnow()
    for _ in range(MAX_ATTEMPTS):
        moment += timedelta(hours=2)
        deliver_due(now=moment, sender=failing)
    [message] = session.exec(select(OutboxMessage)).all()
    assert message.status == "dead" and message.attempts == MAX_ATTEMPTS
    assert "gone@example.org" not in f"{message.recipient} {message.dedup_key} {message.payload} {message.last_error}"
