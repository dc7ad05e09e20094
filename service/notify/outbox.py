from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from service.crypto import blind_index
from service.db import new_session
from service.models import OutboxMessage, OutboxStatus, PushSubscription, StaffPushSubscription, WebhookEndpoint
from service.models.base import utcnow
from service.notify import email, events, push, sms, webhooks

log = logging.getLogger(__name__)
# Announced (to observers, no clinic, no data) by a transaction that queued a message, once it commits.
QUEUED = "outbox.queued"
MAX_ATTEMPTS = 10
BASE_DELAY = timedelta(seconds=15)
MAX_DELAY = timedelta(hours=1)
# A payload flag: once sent or given up, the row keeps nothing of its recipient or message.
FORGET = "forget_after_sending"
ERASED = "erased"
# What a text message's recipient reads as once sent or given up: the number is not kept.
SMS_DONE = "sms"
# The Message-ID an email waiting during migration 0019 had (its dedup key then held the address), so
# a receiver still drops a repeat of a delivery the upgrade interrupted; dropped once it is sent.
KEPT_MESSAGE_ID = "message_id"
# The blind index's purpose (its key is derived from TANDEM_SECRET_KEY, like every blind index):
# the same in migration 0019, which computed the index of the rows queued before it.
RECIPIENT_INDEX = "outbox_message.recipient"
# How much of the index names the recipient inside a dedup key (128 bits).
DEDUP_INDEX_CHARS = 32


def recipient_index(recipient: str) -> str:
    """The keyed blind index of a recipient (HMAC-SHA-256; case and surrounding spaces ignored):
    finds a person's outbox rows without the database holding the address."""
    return blind_index(recipient, RECIPIENT_INDEX)


def _named(recipient: str) -> str:
    """How a dedup key names its recipient: the blind index, never the address or the number."""
    return recipient_index(recipient)[:DEDUP_INDEX_CHARS]


def legacy_sms_mark(number_hash: str) -> str:
    """What migration 0019 put in place of the unkeyed hash (the first 16 hex digits of SHA-256 of
    the number) that dedup keys of text messages sent before it held: a keyed hash of that hash."""
    return "h" + blind_index(number_hash, "outbox_message.legacy_sms")[: DEDUP_INDEX_CHARS - 1]


def enqueue_email(
    session: Session,
    *,
    to: str,
    subject: str,
    text: str,
    dedup_key: str,
    clinic_id: str | None = None,
    html: str | None = None,
    fresh: bool = False,
    forget_after_sending: bool = False,
) -> OutboxMessage | None:
    """Queue an email in the caller's transaction. Never put client text in it: ids and links only.

    ``fresh``: the dedup key names a row made in this transaction, so it cannot be queued already.
    ``forget_after_sending``: once sent (or given up), the row keeps no trace of the address or the
    message (the last email to a client whose data was erased).
    """
    payload: dict[str, Any] = {"subject": subject, "text": text, "html": html}
    if forget_after_sending:
        payload[FORGET] = True
    return _enqueue(
        session,
        fresh=fresh,
        kind="email",
        dedup_key=f"email:{dedup_key}:{_named(to)}",
        recipient=to,
        clinic_id=clinic_id,
        payload=payload,
    )


def enqueue_push(
    session: Session, *, subscription: PushSubscription, title: str, text: str, dedup_key: str, url: str = "/app/"
) -> OutboxMessage | None:
    """Queue one Web Push notification to one subscription. A short text only, never client data."""
    return _enqueue(
        session,
        kind="push",
        dedup_key=f"push:{dedup_key}:{subscription.id}",
        recipient=f"push-subscription:{subscription.id}",
        payload={"subscription_id": subscription.id, "title": title, "text": text, "url": url},
    )


def enqueue_staff_push(
    session: Session,
    *,
    subscription: StaffPushSubscription,
    title: str,
    text: str,
    dedup_key: str,
    url: str,
    clinic_id: str | None = None,
) -> OutboxMessage | None:
    """Queue one Web Push notification to a staff member's portal browser. No client data in it."""
    return _enqueue(
        session,
        kind="staff_push",
        dedup_key=f"staff_push:{dedup_key}:{subscription.id}",
        recipient=f"staff-push:{subscription.id}",
        clinic_id=clinic_id,
        payload={"subscription_id": subscription.id, "title": title, "text": text, "url": url},
    )


def enqueue_sms(
    session: Session, *, to: str, text: str, dedup_key: str, clinic_id: str | None = None, staff_id: str | None = None
) -> OutboxMessage | None:
    """Queue one text message. The number is its recipient, sealed by the key ring, and kept only
    until the message is sent or given up.

    A text message sent before migration 0019 had its number dropped, so the migration could not
    compute its blind index: its dedup key holds a keyed hash of the old unkeyed hash instead, and
    that form is refused too, so an upgrade never sends a text message twice."""
    legacy = legacy_sms_mark(hashlib.sha256(to.encode()).hexdigest()[:16])
    return _enqueue(
        session,
        kind="sms",
        dedup_key=f"sms:{dedup_key}:{_named(to)}",
        also_known_as=(f"sms:{dedup_key}:{legacy}",),
        recipient=to,
        clinic_id=clinic_id,
        payload={"text": text, "staff_id": staff_id},
    )


def sms_number(message: OutboxMessage) -> str:
    """The number a queued text message goes to: its sealed recipient, or, on a row queued before
    migration 0019 (which moves every such number), the payload, in plain text as it was kept then."""
    return str(message.payload["to"]) if "to" in message.payload else message.recipient


def enqueue_webhooks(
    session: Session,
    *,
    clinic_id: str,
    event_type: str,
    data: dict[str, Any],
    dedup_key: str,
    fresh: bool = False,
    endpoints: Sequence[WebhookEndpoint] | None = None,
) -> list[OutboxMessage]:
    """Queue one signed delivery per active endpoint of the clinic subscribed to ``event_type``.

    ``endpoints``: the clinic's active endpoints when the caller has just read them.
    """
    if endpoints is None:
        endpoints = session.exec(
            select(WebhookEndpoint).where(WebhookEndpoint.clinic_id == clinic_id, col(WebhookEndpoint.active).is_(True))
        ).all()
    queued = []
    for endpoint in endpoints:
        if endpoint.events and event_type not in endpoint.events:
            continue
        event_id = f"{dedup_key}:{endpoint.id}"
        message = _enqueue(
            session,
            fresh=fresh,
            kind="webhook",
            dedup_key=f"webhook:{event_id}",
            recipient=endpoint.url,
            clinic_id=clinic_id,
            payload={
                "endpoint_id": endpoint.id,
                "body": {
                    "id": _event_id(event_id),
                    "type": event_type,
                    "created_at": utcnow().isoformat(),
                    "data": data,
                },
            },
        )
        if message is not None:
            queued.append(message)
    return queued


def _event_id(key: str) -> str:
    return "evt_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _enqueue(
    session: Session, *, fresh: bool = False, also_known_as: Sequence[str] = (), **values: Any
) -> OutboxMessage | None:
    if not fresh:
        keys = [values["dedup_key"], *also_known_as]
        existing = session.exec(select(OutboxMessage.id).where(col(OutboxMessage.dedup_key).in_(keys))).first()
        if existing is not None:
            return None  # already queued (or sent): a notification goes out once per recipient
    message = OutboxMessage(**values, recipient_index=recipient_index(values["recipient"]))
    session.add(message)
    events.announce_once(session, QUEUED)  # the scheduler delivers it once this transaction commits
    return message


@dataclass
class DeliveryReport:
    sent: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)


Sender = Callable[[Session, OutboxMessage], None]


def _send(session: Session, message: OutboxMessage) -> None:
    if message.kind == "email":
        email.send(
            to=message.recipient,
            subject=message.payload["subject"],
            text=message.payload["text"],
            html=message.payload.get("html"),
            message_id=message.dedup_key,
            kept_id=message.payload.get(KEPT_MESSAGE_ID),
        )
    elif message.kind == "webhook":
        endpoint = session.get(WebhookEndpoint, message.payload["endpoint_id"])
        if endpoint is None or not endpoint.active:
            raise webhooks.WebhookError("endpoint removed or deactivated")
        webhooks.deliver(endpoint.url, endpoint.secret, json.dumps(message.payload["body"], sort_keys=True).encode())
    elif message.kind == "push":
        subscription = session.get(PushSubscription, message.payload["subscription_id"])
        if subscription is None:
            raise push.SubscriptionGone("subscription removed")
        target = push.PushTarget(subscription.endpoint, subscription.p256dh, subscription.auth)
        try:
            push.send(target, title=message.payload["title"], text=message.payload["text"], url=message.payload["url"])
        except push.SubscriptionGone:
            session.delete(subscription)  # the browser unsubscribed: stop pushing to it
            raise
    elif message.kind == "staff_push":
        staff_subscription = session.get(StaffPushSubscription, message.payload["subscription_id"])
        if staff_subscription is None:
            raise push.SubscriptionGone("subscription removed")
        staff_target = push.PushTarget(staff_subscription.endpoint, staff_subscription.p256dh, staff_subscription.auth)
        try:
            push.send(
                staff_target, title=message.payload["title"], text=message.payload["text"], url=message.payload["url"]
            )
        except push.SubscriptionGone:
            session.delete(staff_subscription)
            raise
    elif message.kind == "sms":
        sms.send(to=sms_number(message), body=message.payload["text"])
    else:
        raise ValueError(f"unknown outbox kind {message.kind!r}")


def deliver_due(*, now: datetime | None = None, limit: int = 100, sender: Sender = _send) -> DeliveryReport:
    """Deliver what is due, one message per transaction, so a crash re-sends at most the one in flight.

    On PostgreSQL, rows are claimed with FOR UPDATE SKIP LOCKED, so several replicas can deliver
    side by side without sending the same message at the same time.
    """
    report = DeliveryReport()
    for _ in range(limit):
        with new_session() as session:
            moment = now or utcnow()
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING, col(OutboxMessage.next_attempt_at) <= moment)
                .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.created_at))
                .limit(1)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            message = session.exec(query).first()
            if message is None:
                break
            try:
                sender(session, message)
            except push.SubscriptionGone as exc:
                message.status = OutboxStatus.DEAD  # nobody left to deliver it to; retrying cannot help
                message.attempts += 1
                message.last_error = _without_recipient(str(exc), message)[:500]
                report.dead.append(message.id)
            except Exception as exc:  # any delivery failure is retried, then given up loudly
                _schedule_retry(message, exc, moment, report)
            else:
                message.status = OutboxStatus.SENT
                message.sent_at = utcnow()
                message.attempts += 1
                report.sent.append(message.id)
            if message.status != OutboxStatus.PENDING:
                _drop_contact_details(message)
            session.commit()
    return report


def _drop_contact_details(message: OutboxMessage) -> None:
    """A message done with (sent or given up) keeps no contact detail it no longer needs."""
    if message.payload.get(FORGET):
        forget(message)
    elif message.kind == "email" and KEPT_MESSAGE_ID in message.payload:
        message.payload = {k: v for k, v in message.payload.items() if k != KEPT_MESSAGE_ID}
    elif message.kind == "sms":
        message.recipient = SMS_DONE  # the blind index stays: the dedup key names it anyway
        message.payload = {k: v for k, v in message.payload.items() if k != "to"}


def _without_recipient(error: str, message: OutboxMessage) -> str:
    """An error as kept on the row: a refusal that names the address (an SMTP 550) does not keep it."""
    recipient = (sms_number(message) if message.kind == "sms" else message.recipient) or ""
    if len(recipient.strip()) < 3:
        return error
    return re.sub(re.escape(recipient.strip()), "[recipient]", error, flags=re.IGNORECASE)


def forget(message: OutboxMessage) -> None:
    """The row keeps only that a message of its kind existed: no address, no text, no error (an SMTP
    refusal names the address)."""
    message.recipient = ERASED
    message.recipient_index = None
    message.dedup_key = f"{ERASED}:{message.id}"
    message.payload = {}
    message.last_error = None


def _schedule_retry(message: OutboxMessage, exc: Exception, moment: datetime, report: DeliveryReport) -> None:
    message.attempts += 1
    message.last_error = _without_recipient(f"{type(exc).__name__}: {exc}", message)[:500]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.DEAD
        report.dead.append(message.id)
        log.error("outbox message %s (%s) given up after %d attempts", message.id, message.kind, message.attempts)
        return
    delay = min(BASE_DELAY * (2 ** (message.attempts - 1)), MAX_DELAY)
    message.next_attempt_at = moment + delay
    report.retried.append(message.id)
    log.warning("outbox message %s (%s) failed, retry in %ss", message.id, message.kind, int(delay.total_seconds()))
