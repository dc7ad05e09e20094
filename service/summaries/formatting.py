"""Numbers, dates and times written the way the clinic reads them: its language, country and time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time, get_datetime_format
from babel.numbers import format_decimal, format_percent

from service.kit.i18n import first_of_month, pick_locale

MINUS = "\u2212"  # a real minus sign: "−3" reads better than "-3" in print
DateStyle = Literal["full", "long", "medium", "short"]


@lru_cache
def babel_locale(lang: str, country: str | None) -> str:
    """``fr_CA`` when Babel knows the pair, else the language alone: dates follow the clinic's country."""
    language = pick_locale(lang)
    if country:
        try:
            return str(Locale.parse(f"{language}_{country.upper()}"))
        except (UnknownLocaleError, ValueError):
            pass
    return language


@dataclass(frozen=True)
class Formatter:
    lang: str
    country: str | None
    timezone: str

    @property
    def locale(self) -> str:
        return babel_locale(self.lang, self.country)

    def number(self, value: float | None, digits: int = 1) -> str:
        """A decimal with `digits` places in the clinic's convention ("5.4", "5,4"); "—" for no value."""
        if value is None:
            return "—"
        pattern = "0" if digits == 0 else "0." + "0" * digits
        return format_decimal(value, format=pattern, locale=self.locale).replace("-", MINUS)

    def percent(self, share: float | None) -> str:
        """A share as a whole percentage ("83 %" in French); "—" when there was nothing to count."""
        if share is None:
            return "—"
        return format_percent(share, format="#,##0%", locale=self.locale)

    def signed(self, value: int | None) -> str:
        """A change in points with its sign: "+3", "−6", "0"."""
        if value is None:
            return "—"
        if value > 0:
            return f"+{value}"
        return f"{MINUS}{abs(value)}" if value < 0 else "0"

    def day(self, value: date | datetime | None, style: DateStyle = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = self.local(value).date()
        return first_of_month(format_date(value, style, locale=self.locale), str(self.locale))

    def short_day(self, value: date) -> str:
        """Day and month only, for chart axes ("3 Mar", "Mar 3", "3 mars")."""
        return first_of_month(format_skeleton("MMMd", value, locale=self.locale), str(self.locale))

    def moment(self, value: datetime | None, style: DateStyle = "medium") -> str:
        """A moment in the clinic's time zone: the date in `style`, the time to the minute."""
        if value is None:
            return ""
        local = self.local(value)
        pattern = str(get_datetime_format(style, locale=self.locale)).replace("'", "")
        day = first_of_month(format_date(local.date(), style, locale=self.locale), str(self.locale))
        return pattern.format(format_time(local, "short", locale=self.locale), day)

    def local(self, value: datetime) -> datetime:
        return value.astimezone(ZoneInfo(self.timezone))
