"""Locales Tandem speaks, and the checks on locale, country and time-zone input."""

from __future__ import annotations

import gettext as gettext_module
import re
from collections.abc import Callable
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from service.errors import Invalid

SUPPORTED_LOCALES = ("en", "fr")
DEFAULT_LOCALE = "en"


def pick_locale(value: str | None) -> str:
    """The supported locale closest to ``value`` ("fr-CA" -> "fr"); English otherwise."""
    if not value:
        return DEFAULT_LOCALE
    base = value.replace("_", "-").split("-")[0].strip().lower()
    return base if base in SUPPORTED_LOCALES else DEFAULT_LOCALE


class Multilingual(str):
    """A sentence for a person that exists in every supported language. As a ``str`` it reads in the
    language it was made in; a face that knows which language its reader asked for (the client API:
    Accept-Language, else the client's profile) calls ``in_locale``. For refusals whose words are not
    in the gettext catalog (a guided session's, in service/exercises/texts.toml)."""

    _render: Callable[[str], str]

    def __new__(cls, render: Callable[[str], str], locale: str) -> Multilingual:
        made = super().__new__(cls, render(pick_locale(locale)))
        made._render = render
        return made

    def in_locale(self, locale: str) -> str:
        return self._render(pick_locale(locale))


def check_locale(value: str) -> str:
    if value not in SUPPORTED_LOCALES:
        raise Invalid(f"locale must be one of {', '.join(SUPPORTED_LOCALES)}")
    return value


def check_country(value: str) -> str:
    code = value.strip().upper()
    try:
        # "ZZ" is CLDR's "Unknown Region", not a country.
        known = len(code) == 2 and code.isalpha() and code != "ZZ" and code in Locale("en").territories
    except UnknownLocaleError:  # pragma: no cover - English is always there
        known = False
    if not known:
        raise Invalid(f"country must be an ISO 3166 two-letter code, got {value!r}")
    return code


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    # available_timezones() walks the tz database on disk: once per process is enough.
    return frozenset(available_timezones())


def check_timezone(value: str) -> str:
    if value not in _time_zones():
        raise Invalid(f"unknown time zone {value!r}; use an IANA name such as Europe/Paris")
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - available_timezones() said yes
        raise Invalid(f"unknown time zone {value!r}") from exc
    return value


# Server-side strings are English in the code and translated by Babel catalogs in
# service/locales/<locale>/LC_MESSAGES/messages.po (read directly: no compile step to forget).
LOCALES_DIR = Path(__file__).parent.parent / "locales"


@lru_cache
def translations(locale: str) -> gettext_module.NullTranslations:
    po_path = LOCALES_DIR / pick_locale(locale) / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return gettext_module.NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=pick_locale(locale))
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext(locale: str, message: str, **values: object) -> str:
    text = translations(locale).gettext(message)
    return text % values if values else text


def ngettext(locale: str, singular: str, plural: str, num: int, **values: object) -> str:
    """The form that agrees with ``num`` ("1 alerte", "2 alertes"), with ``num`` as ``%(num)d``."""
    return translations(locale).ngettext(singular, plural, num) % {"num": num, **values}


_FIRST_OF_MONTH = re.compile(r"(?<!\d)1(?= [^\W\d])")


def first_of_month(text: str, locale: str) -> str:
    """French writes the first day of a month "1er" ("1er octobre"); Babel's patterns say "1"."""
    return _FIRST_OF_MONTH.sub("1er", text) if str(locale).startswith("fr") else text
