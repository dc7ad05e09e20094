"""Notifications: an outbox written with the change that causes it, delivered after commit by email
(SMTP), Web Push, SMS, signed webhooks, and live events for open portal pages."""

from service.notify.events import broker, publish
from service.notify.outbox import (
    QUEUED,
    DeliveryReport,
    deliver_due,
    enqueue_email,
    enqueue_push,
    enqueue_sms,
    enqueue_staff_push,
    enqueue_webhooks,
    recipient_index,
)

__all__ = [
    "QUEUED",
    "DeliveryReport",
    "broker",
    "deliver_due",
    "enqueue_email",
    "enqueue_push",
    "enqueue_sms",
    "enqueue_staff_push",
    "enqueue_webhooks",
    "publish",
    "recipient_index",
]
