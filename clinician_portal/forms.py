"""Choices offered by the portal's forms, and turning form text into values."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale

from service.errors import Invalid
from service.kit.hygiene import EARLIEST, LATEST
from service.kit.i18n import SUPPORTED_LOCALES

# Each language named in itself, so a French speaker finds "Français" on an English page.
LANGUAGE_NAMES = {code: (Locale.parse(code).get_display_name(code) or code).capitalize() for code in SUPPORTED_LOCALES}


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


@lru_cache
def timezone_choices() -> list[str]:
    """IANA zones people live in (Region/City), without the legacy and Etc/ aliases."""
    regions = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
    return sorted(z for z in available_timezones() if z.split("/")[0] in regions)


@lru_cache
def country_choices(locale: str) -> list[tuple[str, str]]:
    """(ISO code, name in ``locale``) for every country, sorted by name as a reader expects."""
    names = Locale.parse(locale).territories
    countries = [(code, name) for code, name in names.items() if len(code) == 2 and code.isalpha() and code != "ZZ"]
    return sorted(countries, key=lambda item: _fold(item[1]))


def parse_local_datetime(value: str, timezone: str) -> datetime | None:
    """An ``<input type="datetime-local">`` value, read as wall-clock time in ``timezone``."""
    value = value.strip()
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("enter a date and time such as 2026-03-14 09:30") from exc
    if naive.tzinfo is not None:
        raise Invalid("enter a date and time such as 2026-03-14 09:30")
    return naive.replace(tzinfo=ZoneInfo(timezone))


def local_input_value(value: datetime | None, timezone: str) -> str:
    """The value for a ``datetime-local`` input showing ``value`` in ``timezone``."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")


def parse_day(value: str | None) -> date | None:
    if not value or not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError as exc:
        raise Invalid("enter dates as YYYY-MM-DD") from exc
    if not EARLIEST <= day <= LATEST:
        raise Invalid("enter dates as YYYY-MM-DD")
    return day


def day_bounds(since: date | None, until: date | None, timezone: str) -> tuple[datetime | None, datetime | None]:
    """From the start of ``since`` to the end of ``until`` (inclusive), in the clinic's time zone."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(since, time.min, zone) if since else None
    end = datetime.combine(until + timedelta(days=1), time.min, zone) if until else None
    return start, end
