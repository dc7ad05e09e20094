"""When a client did something, in UTC and on their own calendar.

Clients may date a check-in or a questionnaire themselves (an app that was offline sends late);
these are the bounds, and the one place that reads the clock for check-ins and questionnaires.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.errors import Invalid
from service.models import Patient
from service.models.base import utcnow

# A phone's clock may run a little ahead of the server's.
FUTURE_TOLERANCE = timedelta(minutes=5)
# An app that was offline may send late, but a diary is not rewritten weeks afterwards.
BACKDATE_LIMIT = timedelta(days=7)


def now() -> datetime:
    return utcnow()


def client_moment(value: datetime | None, patient: Patient, *, field: str) -> datetime:
    """`value` in UTC after checking it is plausible, or now when the client gave none."""
    current = now()
    if value is None:
        return current
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(f"{field} must include a UTC offset, for example 2026-03-01T08:30:00+01:00")
    value = value.astimezone(UTC)
    if value > current + FUTURE_TOLERANCE:
        raise Invalid(f"{field} is in the future; it may be at most 5 minutes ahead of the server's clock")
    if value < current - BACKDATE_LIMIT:
        raise Invalid(f"{field} is more than 7 days ago; it can be at most 7 days in the past")
    if patient.activated_at is not None and value < patient.activated_at:
        raise Invalid(f"{field} is before the account was activated")
    return value


def local_date(moment: datetime, patient: Patient) -> date:
    """The calendar date in the patient's time zone at that moment."""
    return moment.astimezone(ZoneInfo(patient.timezone)).date()


def today_for(patient: Patient) -> date:
    return local_date(now(), patient)
