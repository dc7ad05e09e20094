"""Whether alert notices reached people: every attempt and failure for the alert page, the admin
banner while email or push is failing, and the fallback when a notice fails past its deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from service import notify
from service.alerts import notifications
from service.alerts.policy import deadline
from service.db import unit_of_work
from service.kit.i18n import gettext
from service.models import (
    Alert,
    AlertEvent,
    AlertStatus,
    Clinic,
    OutboxMessage,
    OutboxStatus,
    Role,
    Staff,
    StaffPushSubscription,
)
from service.models.base import utcnow

STAFF_CHANNELS = ("email", "staff_push", "sms")
BANNER_CHANNELS = ("email", "staff_push")
RECENT_DEAD = timedelta(hours=1)
FALLBACK_SUBJECT = "[Tandem] An alert notice could not be delivered"
FALLBACK_BODY = (
    "A %(severity)s alert notice has not reached its recipient by %(channel)s since it was raised, "
    "past the alert's deadline. Please make sure someone looks at it: %(link)s"
)


@dataclass(frozen=True)
class Delivery:
    channel: str  # email, staff_push, sms
    recipient: str  # a staff member's name, or the address when nobody has it
    status: str  # pending, sent, dead
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None

    @property
    def failing(self) -> bool:
        return self.status == OutboxStatus.DEAD or (self.status == OutboxStatus.PENDING and self.attempts > 0)


def _alert_key(alert_id: str) -> str:
    return f"%:alert:{alert_id}:%"


def for_alert(session: Session, *, alert: Alert) -> list[Delivery]:
    """Every notice queued about the alert, oldest first, with who it was for and how it went."""
    rows = session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.kind).in_(STAFF_CHANNELS), col(OutboxMessage.dedup_key).like(_alert_key(alert.id)))
        .order_by(col(OutboxMessage.created_at))
    ).all()
    staff = session.exec(select(Staff).where(Staff.clinic_id == alert.clinic_id)).all()
    by_address = {notify.recipient_index(s.email): s.name for s in staff if s.email}
    by_id = {s.id: s.name for s in staff}
    subscription_ids = [r.payload.get("subscription_id") for r in rows if r.kind == "staff_push"]
    owners = {
        sub.id: by_id.get(sub.staff_id, "")
        for sub in session.exec(
            select(StaffPushSubscription).where(col(StaffPushSubscription.id).in_(subscription_ids))
        ).all()
    }
    found = []
    for row in rows:
        if row.kind == "email":
            who = by_address.get(row.recipient_index or "", row.recipient)
        elif row.kind == "staff_push":
            who = owners.get(str(row.payload.get("subscription_id")), "")
        else:
            who = by_id.get(str(row.payload.get("staff_id", "")), "")
        found.append(
            Delivery(
                channel=row.kind,
                recipient=who,
                status=str(row.status),
                attempts=row.attempts,
                last_error=row.last_error,
                created_at=row.created_at,
                sent_at=row.sent_at,
                next_attempt_at=row.next_attempt_at if row.status == OutboxStatus.PENDING else None,
            )
        )
    return found


@dataclass(frozen=True)
class SentMessage:
    kind: str
    recipient: str
    title: str
    text: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


def messages_of_clinic(session: Session, *, clinic_id: str, limit: int = 200) -> list[SentMessage]:
    """The emails and push messages queued for the clinic, newest first (the demo's page): they
    carry no client data by design, only severities and links."""
    rows = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.clinic_id == clinic_id, col(OutboxMessage.kind).in_(STAFF_CHANNELS))
        .order_by(col(OutboxMessage.created_at).desc())
        .limit(limit)
    ).all()
    return [
        SentMessage(
            kind=row.kind,
            recipient=row.recipient if row.kind == "email" else "",
            title=str(row.payload.get("subject") or row.payload.get("title") or ""),
            text=str(row.payload.get("text") or ""),
            status=str(row.status),
            attempts=row.attempts,
            created_at=row.created_at,
            sent_at=row.sent_at,
        )
        for row in rows
    ]


def failing_channels(session: Session, *, clinic_id: str, now: datetime | None = None) -> list[str]:
    """Email or push while it is failing for this clinic: a notice waiting for a retry, or one given
    up on in the last hour. Shown to admins as a banner; it goes once deliveries succeed again."""
    now = now or utcnow()
    rows = session.exec(
        select(OutboxMessage.kind)
        .where(
            OutboxMessage.clinic_id == clinic_id,
            col(OutboxMessage.kind).in_(BANNER_CHANNELS),
            col(OutboxMessage.attempts) > 0,
            (col(OutboxMessage.status) == OutboxStatus.PENDING)
            | (
                (col(OutboxMessage.status) == OutboxStatus.DEAD)
                & (col(OutboxMessage.next_attempt_at) >= now - RECENT_DEAD)
            ),
        )
        .distinct()
    ).all()
    return sorted(set(rows))


def page_admins_for_undelivered(session: Session, *, now: datetime | None = None) -> list[str]:
    """Alerts whose notice has failed for longer than the alert's deadline: the clinic's admins are
    told through another channel than the failing one (once per alert). Returns the alert ids."""
    now = now or utcnow()
    failing = session.exec(
        select(OutboxMessage).where(
            col(OutboxMessage.kind).in_(STAFF_CHANNELS),
            col(OutboxMessage.attempts) > 0,
            col(OutboxMessage.status) != OutboxStatus.SENT,
            col(OutboxMessage.dedup_key).like("%:alert:%"),
        )
    ).all()
    paged = []
    for message in failing:
        alert_id = message.dedup_key.split(":alert:", 1)[1].split(":", 1)[0]
        with unit_of_work(session):
            alert = session.get(Alert, alert_id)
            if alert is None or alert.status == AlertStatus.RESOLVED:
                continue
            clinic = session.get(Clinic, alert.clinic_id)
            assert clinic is not None
            if message.created_at + deadline(clinic, alert.severity) > now or _already_paged(session, alert):
                continue
            admins = session.exec(
                select(Staff).where(
                    Staff.clinic_id == alert.clinic_id, Staff.role == Role.ADMIN, col(Staff.active).is_(True)
                )
            ).all()
            for admin in admins:
                locale = admin.locale or clinic.locale
                notifications.reach(
                    session,
                    person=admin,
                    alert=alert,
                    subject=gettext(locale, FALLBACK_SUBJECT),
                    text=gettext(
                        locale,
                        FALLBACK_BODY,
                        severity=gettext(locale, notifications.SEVERITY_WORDS[str(alert.severity)]),
                        channel=message.kind,
                        link=notifications.alert_link(alert),
                    ),
                    dedup_key=f"alert:{alert.id}:undelivered",
                    skip_channel=message.kind,
                )
            session.add(
                AlertEvent(
                    alert_id=alert.id,
                    at=now,
                    kind="delivery_failed",
                    actor_type="system",
                    actor_id="delivery",
                    detail={"channel": message.kind, "to": [a.id for a in admins]},
                )
            )
            paged.append(alert.id)
    return paged


def _already_paged(session: Session, alert: Alert) -> bool:
    return (
        session.exec(
            select(AlertEvent.id).where(AlertEvent.alert_id == alert.id, AlertEvent.kind == "delivery_failed")
        ).first()
        is not None
    )
