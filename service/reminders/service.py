"""Reminder settings, push subscriptions, and the scheduled job that sends each reminder once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from service import audit, notify
from service.config import Environment, get_settings
from service.crypto import token_digest
from service.db import unit_of_work
from service.errors import Invalid, NotFound
from service.exercises.assignments import assignments_for_patient
from service.kit.context import Actor
from service.kit.i18n import gettext
from service.measures import service as measures
from service.models import Patient, PatientStatus, PushSubscription, ReminderPreference
from service.models.base import utcnow
from service.notify import push
from service.reminders.schemas import PushSubscriptionIn, ReminderSettingsIn, ReminderSettingsOut

log = logging.getLogger(__name__)
MAX_SUBSCRIPTIONS = 10
EMAIL_TEXT = "Open Tandem: %(link)s\n\nYou can change or stop these reminders in the app, under My data."


def get_settings_for(session: Session, *, patient: Patient) -> ReminderSettingsOut:
    pref = session.get(ReminderPreference, patient.id) or ReminderPreference(patient_id=patient.id)
    return _out(session, patient, pref)


def save_settings(session: Session, *, patient: Patient, data: ReminderSettingsIn) -> ReminderSettingsOut:
    if (data.quiet_start is None) != (data.quiet_end is None):
        raise Invalid("give both quiet_start and quiet_end, or neither")
    if data.enabled and not data.times:
        raise Invalid("choose at least one time for the reminders")
    if data.enabled and not data.days:
        raise Invalid("choose at least one day for the reminders")
    with unit_of_work(session):
        pref = session.get(ReminderPreference, patient.id) or ReminderPreference(patient_id=patient.id)
        for name, value in data.model_dump().items():
            setattr(pref, name, value)
        pref.updated_at = utcnow()
        session.add(pref)
        audit.record(session, actor=Actor.client(patient), action="reminders.update", entity=patient)
    return _out(session, patient, pref)


def _out(session: Session, patient: Patient, pref: ReminderPreference) -> ReminderSettingsOut:
    devices = len(session.exec(select(PushSubscription.id).where(PushSubscription.patient_id == patient.id)).all())
    return ReminderSettingsOut(
        enabled=pref.enabled,
        times=list(pref.times),
        days=list(pref.days) if pref.days else [1, 2, 3, 4, 5, 6, 7],
        measures=pref.measures,
        exercises=pref.exercises,
        quiet_start=pref.quiet_start,
        quiet_end=pref.quiet_end,
        email_fallback=pref.email_fallback,
        timezone=patient.timezone,
        push_devices=devices,
    )


def _check_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    secure = parts.scheme == "https"
    # Plain http only outside production, for a push service on this machine (tests, development).
    local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not parts.hostname or not (secure or (local and get_settings().env is not Environment.PROD)):
        raise Invalid("endpoint must be an https URL of a push service")


def subscribe(session: Session, *, patient: Patient, data: PushSubscriptionIn) -> PushSubscription:
    _check_endpoint(data.endpoint)
    digest = token_digest(data.endpoint)
    with unit_of_work(session):
        row = session.exec(select(PushSubscription).where(PushSubscription.endpoint_hash == digest)).first()
        if row is None:
            count = len(
                session.exec(select(PushSubscription.id).where(PushSubscription.patient_id == patient.id)).all()
            )
            if count >= MAX_SUBSCRIPTIONS:
                raise Invalid(f"at most {MAX_SUBSCRIPTIONS} devices can receive reminders; remove one first")
            row = PushSubscription(
                patient_id=patient.id, endpoint=data.endpoint, endpoint_hash=digest, p256dh="", auth=""
            )
        # The same browser may re-subscribe (new keys) or change hands: it belongs to whoever subscribed last.
        row.patient_id = patient.id
        row.p256dh = data.keys.p256dh
        row.auth = data.keys.auth
        session.add(row)
        session.flush()
        audit.record(session, actor=Actor.client(patient), action="push.subscribe", entity=row)
    return row


def unsubscribe(session: Session, *, patient: Patient, endpoint: str) -> None:
    with unit_of_work(session):
        row = session.exec(
            select(PushSubscription).where(
                PushSubscription.endpoint_hash == token_digest(endpoint), PushSubscription.patient_id == patient.id
            )
        ).first()
        if row is None:
            raise NotFound("no such push subscription")
        session.delete(row)
        audit.record(session, actor=Actor.client(patient), action="push.unsubscribe", entity=patient)


# --- when a reminder is due ---------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    local_date: date
    clock: str  # "HH:MM"
    at: datetime  # the UTC instant it falls on


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(moment: time, start: str | None, end: str | None) -> bool:
    if start is None or end is None or start == end:
        return False
    begin, finish = _clock(start), _clock(end)
    if begin < finish:
        return begin <= moment < finish
    return moment >= begin or moment < finish  # across midnight, e.g. 22:00-07:00


def instant(local_date: date, clock: str, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time. A time skipped by a spring-forward change is
    shifted by the gap (02:30 becomes 03:30); a time repeated when clocks go back is its first occurrence."""
    return datetime.combine(local_date, _clock(clock)).replace(tzinfo=zone, fold=0).astimezone(UTC)


def due_slots(pref: ReminderPreference, timezone: str, now: datetime, window: timedelta) -> list[Slot]:
    """Reminder slots whose moment is in (now - window, now]: each is sent once, keyed by local date and time."""
    if not pref.enabled:
        return []
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    slots = []
    for local_date in (today - timedelta(days=1), today):
        if pref.days and local_date.isoweekday() not in pref.days:
            continue
        for clock in pref.times:
            if in_quiet_hours(_clock(clock), pref.quiet_start, pref.quiet_end):
                continue
            at = instant(local_date, clock, zone)
            if now - window < at <= now:
                slots.append(Slot(local_date, clock, at))
    return slots


def _message(session: Session, patient: Patient, pref: ReminderPreference) -> str:
    waiting_measure = pref.measures and any(m.due for m in measures.listing(session, patient=patient))
    waiting_exercise = pref.exercises and any(a.due_now for a in assignments_for_patient(session, patient))
    if waiting_measure and waiting_exercise:
        text = "Time for your check-in. A questionnaire and an exercise are waiting for you too."
    elif waiting_measure:
        text = "Time for your check-in. A questionnaire is waiting for you too."
    elif waiting_exercise:
        text = "Time for your check-in. An exercise is waiting for you too."
    else:
        text = "Time for your check-in"
    return gettext(patient.locale, text)


def queue_due_reminders(session: Session, *, now: datetime | None = None) -> int:
    """Queue the reminders due now for every active client; the outbox's dedup key makes each go once.

    Paused and discharged clients get none. Each client's reminders are queued in their own transaction.
    """
    moment = now or utcnow()
    window = timedelta(minutes=get_settings().reminder_window_minutes)
    rows = session.exec(
        select(ReminderPreference, Patient)
        .join(Patient, col(Patient.id) == ReminderPreference.patient_id)
        .where(col(ReminderPreference.enabled).is_(True), Patient.status == PatientStatus.ACTIVE)
    ).all()
    queued = 0
    for pref, patient in rows:
        slots = due_slots(pref, patient.timezone, moment, window)
        if slots:
            with unit_of_work(session):
                queued += _queue_for(session, patient, pref, slots)
    return queued


def _queue_for(session: Session, patient: Patient, pref: ReminderPreference, slots: list[Slot]) -> int:
    """One push per installed app of the client, or one email when none can receive it."""
    text = _message(session, patient, pref)
    subscriptions = session.exec(select(PushSubscription).where(PushSubscription.patient_id == patient.id)).all()
    link = f"{get_settings().base_url.rstrip('/')}/app/"
    queued: list[object | None] = []
    for slot in slots:
        key = f"reminder:{patient.id}:{slot.local_date.isoformat()}:{slot.clock}"
        for subscription in subscriptions:
            queued.append(
                notify.enqueue_push(session, subscription=subscription, title="Tandem", text=text, dedup_key=key)
            )
        if not subscriptions and pref.email_fallback and patient.email:
            queued.append(
                notify.enqueue_email(
                    session,
                    to=patient.email,
                    subject=f"[Tandem] {text}",
                    text=gettext(patient.locale, EMAIL_TEXT, link=link),
                    dedup_key=key,
                    clinic_id=patient.clinic_id,
                )
            )
    return sum(1 for message in queued if message is not None)


def application_server_key() -> str:
    return push.application_server_key()


def export_rows(session: Session, *, patient: Patient) -> dict[str, list[dict[str, object]]]:
    """The client's reminder settings and the devices that receive them, for their data export."""
    pref = session.get(ReminderPreference, patient.id)
    subscriptions = session.exec(
        select(PushSubscription)
        .where(PushSubscription.patient_id == patient.id)
        .order_by(col(PushSubscription.created_at))
    ).all()
    return {
        "reminders": [pref.model_dump(mode="json", exclude={"patient_id"})] if pref else [],
        # Where pushes go, not the keys that decrypt them.
        "push_devices": [{"endpoint": s.endpoint, "created_at": s.created_at.isoformat()} for s in subscriptions],
    }
