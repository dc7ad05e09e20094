"""The portal's one Jinja2 environment: autoescaped, with gettext wired to the service catalogs.

The language of a page is set for the duration of one render (a context variable), so a
single environment serves French and English pages side by side.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time, format_timedelta, get_datetime_format
from babel.numbers import NumberPattern, format_decimal, format_percent, parse_pattern
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from service.alerts.policy import category_label, reason_label, resolution_label
from service.audit.labels import action_label
from service.kit.i18n import DEFAULT_LOCALE, first_of_month, translations
from service.models.base import utcnow

PACKAGE = Path(__file__).parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"

_locale: ContextVar[str] = ContextVar("portal_locale", default=DEFAULT_LOCALE)
# Dates and times follow the language and the clinic's country: "15 Jan 2027" in London, "Jan 15, 2027" in Boston.
_formats: ContextVar[str] = ContextVar("portal_formats", default=DEFAULT_LOCALE)


def current_locale() -> str:
    return _locale.get()


@lru_cache
def formatting_locale(language: str, country: str | None) -> str:
    """``language_COUNTRY`` when Babel knows that combination, else the language alone."""
    if not country:
        return language
    try:
        return str(Locale.parse(f"{language}_{country.upper()}"))
    except (UnknownLocaleError, ValueError):
        return language


@contextmanager
def speaking(locale: str, country: str | None = None) -> Iterator[None]:
    token = _locale.set(locale)
    formats = _formats.set(formatting_locale(locale, country))
    try:
        yield
    finally:
        _formats.reset(formats)
        _locale.reset(token)


def _gettext(message: str) -> str:
    return translations(_locale.get()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_locale.get()).ngettext(singular, plural, n)


def translate(message: str) -> str:
    """A message known only at run time (a service error, a menu label), translated as plain text.

    Unlike ``_()`` in templates, the result is not marked safe, so it is escaped like any value.
    """
    return str(translations(_locale.get()).gettext(message))


def as_sentence(text: str) -> str:
    """Service messages are written as clauses ("no such patient"); pages show them as sentences."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _zone(tz: str | None) -> ZoneInfo:
    return ZoneInfo(tz or "UTC")


def format_when(value: datetime | None, tz: str | None = None, style: str = "medium") -> str:
    """A moment in the given time zone, worded for the page's language: the date in ``style``, the
    time to the minute (empty when None)."""
    if value is None:
        return ""
    locale = _formats.get()
    parsed = _babel_locale(locale)
    local = value.astimezone(_zone(tz))
    pattern = str(get_datetime_format(_style(style), locale=parsed)).replace("'", "")
    day = first_of_month(format_date(local.date(), _style(style), locale=parsed), locale)
    return pattern.format(format_time(local, "short", locale=parsed), day)


def iso_moment(value: str | None) -> datetime | None:
    """A moment stored as ISO 8601 text (in a signal's evidence) as a datetime, for `when`."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def format_day(value: datetime | None, tz: str | None = None, style: str = "long") -> str:
    if value is None:
        return ""
    locale = _formats.get()
    day = format_date(value.astimezone(_zone(tz)).date(), _style(style), locale=_babel_locale(locale))
    return first_of_month(day, locale)


Style = Literal["full", "long", "medium", "short"]


def _style(style: str) -> Style:
    if style not in ("full", "long", "medium", "short"):
        raise ValueError(f"unknown date style {style!r}")
    return cast(Style, style)


def format_short_date(value: date | datetime | None) -> str:
    """A day without the year, for chart axes and dense tables: "2 Mar" or "2 mars"."""
    if value is None:
        return ""
    day = value.date() if isinstance(value, datetime) else value
    return first_of_month(format_skeleton("MMMd", day, locale=_babel_locale(_formats.get())), _formats.get())


def format_duration(value: timedelta) -> str:
    """How long, in words and rounded: "12 minutes", "3 heures"."""
    return format_timedelta(abs(value), threshold=1.1, locale=_babel_locale(_formats.get()))


def format_ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in words: "2 hours ago", "il y a 2 heures"."""
    if value is None:
        return ""
    return format_timedelta(
        value - (now or utcnow()), threshold=1.1, add_direction=True, locale=_babel_locale(_formats.get())
    )


def format_number(value: float | int | None, digits: int = 1) -> str:
    """A number the way the page's language writes it ("5.5", "5,5"), with at most ``digits`` decimals."""
    if value is None:
        return ""
    return format_decimal(value, format=_number_pattern(digits), locale=_babel_locale(_formats.get()))


@lru_cache(maxsize=8)
def _number_pattern(digits: int) -> NumberPattern:
    # Parsed once: a caseload page formats a few hundred numbers.
    return parse_pattern("#,##0" + ("." + "#" * digits if digits else ""))


@lru_cache(maxsize=32)
def _babel_locale(name: str) -> Locale:
    # Parsed once per language: Babel parses a locale name again on every call given the name, some
    # 800 times for one caseload page's dates and numbers.
    return Locale.parse(name)


def format_percent_value(value: float | None) -> str:
    """A share as a percentage the way the page's language writes it ("75%", "75 %")."""
    if value is None:
        return ""
    return format_percent(value, locale=_babel_locale(_formats.get()))


def in_language(texts: Mapping[str, str]) -> str:
    """The page's language's text of a {"en": ..., "fr": ...} pair (questionnaire items, policy labels)."""
    return texts.get(_locale.get()) or texts[DEFAULT_LOCALE]


def alert_reason(reason: str) -> str:
    return reason_label(reason, _locale.get())


def risk_category(category: str) -> str:
    return category_label(category, _locale.get())


def audit_action(code: str) -> str:
    return action_label(code, _locale.get())


def alert_resolution(code: str | None) -> str:
    return resolution_label(code, _locale.get()) if code else ""


@lru_cache
def static_version(name: str) -> str:
    """A content hash for cache-busting static files, so browsers may cache them for long."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def _build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["tr"] = translate
    env.filters["sentence"] = as_sentence
    env.filters["when"] = format_when
    env.filters["iso_moment"] = iso_moment
    env.filters["day"] = format_day
    env.filters["short_date"] = format_short_date
    env.filters["duration"] = format_duration
    env.filters["ago"] = format_ago
    env.filters["number"] = format_number
    env.filters["percent"] = format_percent_value
    env.filters["local"] = in_language
    env.filters["alert_reason"] = alert_reason
    env.filters["risk_category"] = risk_category
    env.filters["resolution"] = alert_resolution
    env.filters["audit_action"] = audit_action
    return env


environment = _build_environment()


def render_template(name: str, context: dict[str, Any], locale: str, country: str | None = None) -> str:
    with speaking(locale, country):
        return environment.get_template(name).render(**context, locale=locale)
