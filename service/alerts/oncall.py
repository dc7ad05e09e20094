"""The on-call rota and how each staff member is reached (email, Web Push, SMS).

Admins keep the rota in the portal in the clinic's time zone; times are stored in UTC. Overlaps are
allowed (everyone on shift is told); a gap means admins are paged instead.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from service import audit
from service.db import unit_of_work
from service.errors import Forbidden, Invalid, NotFound
from service.kit.context import Actor
from service.models import Clinic, OnCallShift, Role, Staff, StaffChannels, StaffPushSubscription
from service.models.base import utcnow

MAX_SHIFT = timedelta(days=14)
ROTA_DAYS = 14
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


# --- the rota -----------------------------------------------------------------------------------


def on_shift(session: Session, *, clinic_id: str, now: datetime) -> list[Staff]:
    """Active staff whose shift covers ``now``."""
    rows = session.exec(
        select(Staff)
        .join(OnCallShift, col(OnCallShift.staff_id) == Staff.id)
        .where(
            OnCallShift.clinic_id == clinic_id,
            col(OnCallShift.starts_at) <= now,
            col(OnCallShift.ends_at) > now,
            col(Staff.active).is_(True),
        )
    ).all()
    return list({s.id: s for s in rows}.values())


@dataclass(frozen=True)
class ShiftRow:
    shift: OnCallShift
    staff_name: str


@dataclass(frozen=True)
class Rota:
    shifts: list[ShiftRow]
    gaps: list[tuple[datetime, datetime]]
    """Stretches of the next two weeks with nobody on call: admins are paged then."""
    overlaps: list[tuple[datetime, datetime]]
    candidates: list[Staff]
    """The clinic's active staff, by name: who can be put on the rota."""


def rota(session: Session, *, staff: Staff, now: datetime | None = None) -> Rota:
    """Shifts that end in the next two weeks, with the gaps and overlaps between them."""
    now = now or utcnow()
    until = now + timedelta(days=ROTA_DAYS)
    shifts = session.exec(
        select(OnCallShift)
        .where(
            OnCallShift.clinic_id == staff.clinic_id,
            col(OnCallShift.ends_at) > now,
            col(OnCallShift.starts_at) < until,
        )
        .order_by(col(OnCallShift.starts_at))
    ).all()
    members = session.exec(select(Staff).where(Staff.clinic_id == staff.clinic_id).order_by(col(Staff.name))).all()
    names = {s.id: s.name for s in members}
    gaps: list[tuple[datetime, datetime]] = []
    overlaps: list[tuple[datetime, datetime]] = []
    covered_to = now
    for shift in shifts:
        if shift.starts_at > covered_to:
            gaps.append((covered_to, shift.starts_at))
        elif shift.starts_at < covered_to and shift.starts_at >= now:
            overlaps.append((shift.starts_at, min(covered_to, shift.ends_at)))
        covered_to = max(covered_to, shift.ends_at)
    if covered_to < until:
        gaps.append((covered_to, until))
    candidates = [s for s in members if s.active]
    return Rota([ShiftRow(s, names.get(s.staff_id, "")) for s in shifts], gaps, overlaps, candidates)


def add_shift(
    session: Session, *, admin: Staff, staff_id: str, starts_local: datetime, ends_local: datetime
) -> OnCallShift:
    """A shift entered in the clinic's time zone (naive local times)."""
    _require_admin(admin)
    with unit_of_work(session):
        clinic = session.get(Clinic, admin.clinic_id)
        assert clinic is not None
        person = session.get(Staff, staff_id)
        if person is None or person.clinic_id != admin.clinic_id or not person.active:
            raise Invalid("choose an active member of this clinic")
        zone = ZoneInfo(clinic.timezone)
        starts = starts_local.replace(tzinfo=zone)
        ends = ends_local.replace(tzinfo=zone)
        if ends <= starts:
            raise Invalid("a shift must end after it starts")
        if ends - starts > MAX_SHIFT:
            raise Invalid("a shift lasts at most 14 days")
        shift = OnCallShift(
            clinic_id=admin.clinic_id, staff_id=person.id, starts_at=starts, ends_at=ends, created_by=admin.id
        )
        session.add(shift)
        session.flush()
        audit.record(session, actor=Actor.staff(admin), action="oncall.add", entity=shift, detail={"staff": person.id})
    return shift


def remove_shift(session: Session, *, admin: Staff, shift_id: str) -> None:
    _require_admin(admin)
    with unit_of_work(session):
        shift = session.get(OnCallShift, shift_id)
        if shift is None or shift.clinic_id != admin.clinic_id:
            raise NotFound("no such shift")
        audit.record(session, actor=Actor.staff(admin), action="oncall.remove", entity=shift)
        session.delete(shift)


def _require_admin(staff: Staff) -> None:
    if staff.role != Role.ADMIN or not staff.active:
        raise Forbidden("only a clinic administrator can change the on-call rota")


# --- channels -----------------------------------------------------------------------------------


def channels(session: Session, *, staff_id: str) -> StaffChannels:
    """The staff member's channels; email only until they choose."""
    return session.get(StaffChannels, staff_id) or StaffChannels(staff_id=staff_id)


def save_channels(
    session: Session,
    *,
    staff: Staff,
    email: bool,
    push: bool,
    sms: bool,
    sms_number: str | None,
    routine_digest: bool,
) -> StaffChannels:
    number = "".join((sms_number or "").split()) or None
    if number is not None and not _E164.match(number):
        raise Invalid("the phone number must be in international format, such as +447700900123")
    if sms and number is None:
        raise Invalid("give a phone number to receive text messages")
    if not (email or push or sms):
        raise Invalid("choose at least one way to be reached")
    with unit_of_work(session):
        row = session.get(StaffChannels, staff.id) or StaffChannels(staff_id=staff.id)
        row.email, row.push, row.sms, row.sms_number = email, push, sms, number
        row.routine_digest, row.updated_at = routine_digest, utcnow()
        session.add(row)
        audit.record(
            session,
            actor=Actor.staff(staff),
            action="staff.channels",
            entity_type="staff",
            entity_id=staff.id,
            clinic_id=staff.clinic_id,
            detail={"email": email, "push": push, "sms": sms, "routine_digest": routine_digest},
        )
    return row


def push_subscriptions(session: Session, *, staff_id: str) -> list[StaffPushSubscription]:
    return list(session.exec(select(StaffPushSubscription).where(StaffPushSubscription.staff_id == staff_id)).all())


def subscribe_push(session: Session, *, staff: Staff, endpoint: str, p256dh: str, auth: str) -> StaffPushSubscription:
    """Remember a portal browser's push subscription (the same endpoint again replaces it)."""
    if not endpoint.startswith(("https://", "http://127.0.0.1", "http://localhost")) or len(endpoint) > 2000:
        raise Invalid("the push endpoint must be an https URL")
    if not (0 < len(p256dh) <= 200 and 0 < len(auth) <= 100):
        raise Invalid("the subscription keys are missing or too long")
    digest = hashlib.sha256(endpoint.encode()).hexdigest()
    with unit_of_work(session):
        existing = session.exec(
            select(StaffPushSubscription).where(StaffPushSubscription.endpoint_hash == digest)
        ).first()
        if existing is not None:
            session.delete(existing)
            session.flush()
        row = StaffPushSubscription(
            staff_id=staff.id, endpoint=endpoint, endpoint_hash=digest, p256dh=p256dh, auth=auth
        )
        session.add(row)
        audit.record(
            session,
            actor=Actor.staff(staff),
            action="staff.push_subscribe",
            entity_type="staff",
            entity_id=staff.id,
            clinic_id=staff.clinic_id,
        )
    return row
