"""The outbox holds no readable address or number: recipients are sealed by the key ring, rows are
found and deduplicated by a keyed blind index, and messages still reach the real servers."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from service.config import get_settings
from service.crypto import get_cipher
from service.db import unit_of_work
from service.models import OutboxMessage, OutboxStatus, WebhookEndpoint
from service.models.base import utcnow
from service.notify import deliver_due, enqueue_email, enqueue_sms, enqueue_webhooks, recipient_index
from service.notify.outbox import legacy_sms_mark
from tests.factories import create_clinic
from tests.support.sms_provider import SID, TOKEN, sms_provider

ADDRESS = "Robin.Fox@example.org"
NUMBER = "+447700900123"
HOOK = "https://ehr.example.org/hook?token=s3cret-in-the-url"


def stored(session: Session) -> str:
    """Every column of every outbox row, as the database holds it."""
    return "\n".join(" ".join(str(v) for v in row) for row in session.execute(text("SELECT * FROM outbox_message")))


def readable(value: str) -> list[str]:
    """The forms in which an address or number could be read back from a row without a key."""
    return [value, value.lower(), hashlib.sha256(value.encode()).hexdigest()[:16]]


@pytest.fixture
def texts(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with sms_provider() as provider:
        for name, value in (("API_BASE", provider.base), ("ACCOUNT_SID", SID), ("AUTH_TOKEN", TOKEN)):
            monkeypatch.setenv(f"TANDEM_SMS_{name}", value)
        monkeypatch.setenv("TANDEM_SMS_FROM", "+15005550006")
        get_settings.cache_clear()
        yield provider
    get_settings.cache_clear()


def test_no_outbox_row_holds_a_readable_address_number_or_url_and_delivery_still_arrives(
    session: Session,
    mailbox,  # type: ignore[no-untyped-def]
    texts,  # type: ignore[no-untyped-def]
) -> None:
    setup = create_clinic(session, slug="sealed-outbox")
    # A clinic's endpoint (deactivated, so nothing listens for it in this test): its URL may hold a token.
    endpoint = WebhookEndpoint(clinic_id=setup.clinic.id, url=HOOK, secret="whsec-1", active=False)
    with unit_of_work(session):
        session.add(endpoint)
    with unit_of_work(session):
        enqueue_email(session, to=ADDRESS, subject="Urgent alert", text="Open the portal.", dedup_key="alert:a1")
        enqueue_sms(session, to=NUMBER, text="Urgent alert: open the portal", dedup_key="alert:a1")
        enqueue_webhooks(
            session, clinic_id=setup.clinic.id, event_type="alert.raised", data={}, dedup_key="a1", endpoints=[endpoint]
        )
    for value in (ADDRESS, NUMBER, HOOK):
        for form in readable(value):
            assert form not in stored(session), form
    # Each sealed recipient is a key-ring token of its column, and opens to the recipient.
    rows = session.execute(text("SELECT kind, recipient_sealed, recipient_index FROM outbox_message")).all()
    assert {kind for kind, _, _ in rows} == {"email", "sms", "webhook"}
    opened = {kind: get_cipher().decrypt(sealed, "outbox_message.recipient") for kind, sealed, _ in rows}
    assert opened == {"email": ADDRESS, "sms": NUMBER, "webhook": HOOK}
    assert {kind: index for kind, _, index in rows}["email"] == recipient_index(ADDRESS.lower())

    deliver_due()
    [mail] = mailbox.wait_for(1)
    assert mail["To"] == ADDRESS and mail["Subject"] == "Urgent alert"
    assert [sent["To"] for sent in texts.sent] == [NUMBER]
    session.expire_all()
    for value in (ADDRESS, NUMBER, HOOK):
        for form in readable(value):
            assert form not in stored(session), form
    # A text message sent keeps no number at all, not even sealed.
    [sms] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "sms")).all()
    assert sms.status == OutboxStatus.SENT and sms.recipient == "sms"


def test_an_error_that_names_the_address_is_kept_without_it(session: Session) -> None:
    with unit_of_work(session):
        enqueue_email(session, to=ADDRESS, subject="s", text="t", dedup_key="refused")

    def refusing(session: Session, message: OutboxMessage) -> None:
        raise ConnectionError(f"550 5.1.1 <{ADDRESS.lower()}>: no such user")

    deliver_due(sender=refusing)
    session.expire_all()
    [row] = session.exec(select(OutboxMessage)).all()
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert row.last_error == "ConnectionError: 550 5.1.1 <[recipient]>: no such user"
    assert ADDRESS.lower() not in stored(session)


def test_dedup_still_refuses_a_duplicate_by_the_blind_index(session: Session, mailbox) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(session):
        assert enqueue_email(session, to=ADDRESS, subject="s", text="t", dedup_key="alert:a2") is not None
        assert enqueue_sms(session, to=NUMBER, text="t", dedup_key="alert:a2") is not None
    deliver_due()
    assert len(mailbox.wait_for(1)) == 1
    with unit_of_work(session):
        # The same notice again, even spelled in another case, even after it was sent: refused.
        assert enqueue_email(session, to=ADDRESS.upper(), subject="s", text="t", dedup_key="alert:a2") is None
        assert enqueue_sms(session, to=NUMBER, text="t", dedup_key="alert:a2") is None
        # Another recipient, or another notice, is queued.
        assert enqueue_email(session, to="sam@example.org", subject="s", text="t", dedup_key="alert:a2") is not None
        assert enqueue_sms(session, to="+447700900999", text="t", dedup_key="alert:a2") is not None
    keys = session.exec(select(OutboxMessage.dedup_key)).all()
    assert f"email:alert:a2:{recipient_index(ADDRESS)[:32]}" in keys
    assert f"sms:alert:a2:{recipient_index(NUMBER)[:32]}" in keys


def test_a_text_message_sent_before_the_upgrade_is_not_sent_again(session: Session) -> None:
    """Migration 0019 could not compute the blind index of a text message already sent (its number
    was dropped): its key holds a keyed hash of the old unkeyed hash, and that form is refused too."""
    old_hash = hashlib.sha256(NUMBER.encode()).hexdigest()[:16]
    with unit_of_work(session):
        session.add(
            OutboxMessage(
                kind="sms",
                dedup_key=f"sms:alert:a3:{legacy_sms_mark(old_hash)}",
                recipient="sms",
                status=OutboxStatus.SENT,
                sent_at=utcnow() - timedelta(hours=1),
                payload={"text": "t"},
            )
        )
    with unit_of_work(session):
        assert enqueue_sms(session, to=NUMBER, text="t", dedup_key="alert:a3") is None
        assert enqueue_sms(session, to=NUMBER, text="t", dedup_key="alert:a4") is not None
    assert old_hash not in stored(session)
