"""The daily digest: staff who chose it get their routine alerts in one email a morning instead of
one email each. Urgent and priority alerts never wait for it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from service import notify
from service.alerts import lifecycle
from service.config import get_settings
from service.db import unit_of_work
from service.kit.i18n import gettext, ngettext
from service.models import Alert, AlertStatus, Clinic, Severity, Staff, StaffChannels
from service.models.base import utcnow

DIGEST_HOUR = 8  # local time of the clinic
SUBJECT = "[Tandem] Your routine alerts for today"
_FOOTER = (
    "Open the alert queue in the Tandem portal: %(link)s\n\nThis email deliberately contains no patient information."
)
BODY = (
    "%(num)d routine alert about your patients is waiting for you.\n\n" + _FOOTER,
    "%(num)d routine alerts about your patients are waiting for you.\n\n" + _FOOTER,
)


def send_due(session: Session, *, now: datetime | None = None) -> int:
    """Queue today's digest for everyone who chose it, once the clinic's morning has come."""
    now = now or utcnow()
    people = session.exec(
        select(Staff, Clinic)
        .join(StaffChannels, col(StaffChannels.staff_id) == Staff.id)
        .join(Clinic, col(Clinic.id) == Staff.clinic_id)
        .where(col(StaffChannels.routine_digest).is_(True), col(Staff.active).is_(True))
    ).all()
    queued = 0
    for person, clinic in people:
        local = now.astimezone(ZoneInfo(clinic.timezone))
        if local.hour < DIGEST_HOUR:
            continue
        with unit_of_work(session):
            count = len(
                session.exec(
                    lifecycle.visible_to(person).where(
                        Alert.severity == Severity.ROUTINE, col(Alert.status) != AlertStatus.RESOLVED
                    )
                ).all()
            )
            if not count:
                continue
            link = f"{get_settings().base_url.rstrip('/')}/portal/alerts"
            message = notify.enqueue_email(
                session,
                to=person.email,
                subject=gettext(person.locale or clinic.locale, SUBJECT),
                text=ngettext(person.locale or clinic.locale, *BODY, count, link=link),
                dedup_key=f"digest:{person.id}:{local.date().isoformat()}",
                clinic_id=clinic.id,
            )
            queued += message is not None
    return queued
