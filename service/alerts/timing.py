"""When the care team will see what the client wrote: from the alert's actual severity, its
deadline and the clinic's opening hours, in words the client can rely on."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from service.alerts.policy import deadline, policy
from service.kit.i18n import pick_locale
from service.models import Clinic, Patient, Severity

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def opening_hours(clinic: Clinic) -> dict[int, tuple[time, time]]:
    """Weekday (0 = Monday) -> (opens, closes), from the clinic's settings or the policy file."""
    settings = clinic.settings or {}
    # A clinic that saved its hours (even none: a service without opening hours) overrides the policy file.
    spec = settings["hours"] if isinstance(settings.get("hours"), dict) else policy().hours or {}
    hours: dict[int, tuple[time, time]] = {}
    for day, span in spec.items():
        if day in _DAYS and isinstance(span, list) and len(span) == 2:
            hours[_DAYS.index(day)] = (time.fromisoformat(span[0]), time.fromisoformat(span[1]))
    return hours


def _closes_today(hours: dict[int, tuple[time, time]], local: datetime) -> datetime | None:
    """When the clinic closes today, if it is open now; None when it is closed."""
    span = hours.get(local.weekday())
    if span is None or not (span[0] <= local.time() < span[1]):
        return None
    return local.replace(hour=span[1].hour, minute=span[1].minute, second=0, microsecond=0)


def next_opening(hours: dict[int, tuple[time, time]], local: datetime, *, after_today: bool = False) -> datetime | None:
    """The next moment the clinic opens after ``local`` (on a later day when ``after_today``)."""
    for offset in range(0 if not after_today else 1, 8):
        day = (local + timedelta(days=offset)).date()
        span = hours.get(day.weekday())
        if span is None:
            continue
        opens = datetime.combine(day, span[0], tzinfo=local.tzinfo)
        if opens > local:
            return opens
    return None


def care_team_timing(clinic: Clinic, patient: Patient, severity: Severity, now: datetime) -> tuple[str, dict[str, str]]:
    """The message key under [timing] in messages.toml and its values."""
    locale = pick_locale(patient.locale)
    local = now.astimezone(ZoneInfo(clinic.timezone))
    hours = opening_hours(clinic)
    closes = _closes_today(hours, local)
    minutes = int(deadline(clinic, severity).total_seconds() // 60)

    def when(moment: datetime | None) -> str:
        if moment is None:
            return ""
        return format_datetime(moment, "EEEE HH:mm", tzinfo=ZoneInfo(patient.timezone), locale=locale)

    if not hours:  # a clinic that keeps no hours: the deadline is all we can promise
        return ("deadline", {"hours": str(max(1, math.ceil(minutes / 60)))})
    if severity == Severity.URGENT:
        if closes is not None:
            return ("urgent_open", {"minutes": str(minutes)})
        return ("urgent_closed", {"when": when(next_opening(hours, local))})
    if severity == Severity.PRIORITY:
        if closes is not None and local + timedelta(minutes=minutes) <= closes:
            return ("priority_open", {"hours": str(max(1, math.ceil(minutes / 60)))})
        return ("next_opening", {"when": when(next_opening(hours, local))})
    opening = next_opening(hours, local, after_today=True)
    day = format_datetime(opening, "EEEE", tzinfo=ZoneInfo(patient.timezone), locale=locale) if opening else ""
    return ("routine", {"day": day})
