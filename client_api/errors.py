"""Error answers in the client's language: Accept-Language, else the signed-in client's own, else English.

Services raise English sentences; the API's handlers pass each one through ``translate``, which finds
its template in client_api/messages.py (values and all) and answers with the catalog's sentence for
that language. A sentence not listed stays in English rather than being lost.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from starlette.requests import Request

from client_api.messages import COUNTED_MESSAGES, ERROR_MESSAGES, VALIDATION_MESSAGES
from service.kit.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, Multilingual, pick_locale, translations

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_VALUE_SENT = "(the value sent)"
CLIENT_LOCALE = "client_locale"  # request.state attribute set once the client is known


def accepted_locale(header: str | None) -> str | None:
    """The supported language the client prefers most in an Accept-Language header, or None."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        base = tag.strip().split("-")[0].lower()
        if base in SUPPORTED_LOCALES and quality > 0:
            ranked.append((-quality, position, base))
    return min(ranked)[2] if ranked else None


def request_locale(request: Request) -> str:
    """Accept-Language first (the app says which language it shows), then the client's profile."""
    chosen = accepted_locale(request.headers.get("accept-language"))
    if chosen is not None:
        return chosen
    profile = getattr(request.state, CLIENT_LOCALE, None)
    return pick_locale(profile) if profile else DEFAULT_LOCALE


def localized(detail: Multilingual, request: Request) -> str:
    """A sentence the service wrote in every language: Accept-Language, else the signed-in client's
    profile, else the language it was made in (the client's own, when the service knew who they are,
    as at a sign-in with the right password)."""
    chosen = accepted_locale(request.headers.get("accept-language")) or getattr(request.state, CLIENT_LOCALE, None)
    return detail.in_locale(chosen) if chosen else str(detail)


def remember_client_locale(request: Request, locale: str | None) -> None:
    setattr(request.state, CLIENT_LOCALE, locale)


def has_client_locale(request: Request) -> bool:
    """Whether the request's client is known (their profile's language, if any, remembered)."""
    return hasattr(request.state, CLIENT_LOCALE)


@lru_cache(maxsize=1)
def _templates() -> list[tuple[str, re.Pattern[str]]]:
    """Templates with values, most specific (longest fixed text) first."""
    found = []
    for template in ERROR_MESSAGES:
        if not _PLACEHOLDER.search(template):
            continue
        parts = _PLACEHOLDER.split(template)
        pattern = "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)" for index, part in enumerate(parts))
        fixed = len(_PLACEHOLDER.sub("", template))
        found.append((fixed, template, re.compile(pattern, re.DOTALL)))
    found.sort(key=lambda entry: -entry[0])
    return [(template, pattern) for _, template, pattern in found]


def translate(detail: str, locale: str) -> str:
    """``detail`` in ``locale`` when the catalog has it, else as written."""
    locale = pick_locale(locale)
    if locale == DEFAULT_LOCALE or not detail:
        return detail
    catalog = translations(locale)
    if detail == _VALUE_SENT:
        return f"({catalog.gettext('the value sent')})"
    whole = catalog.gettext(detail)
    if whole != detail:
        return whole
    for template, pattern in _templates():
        match = pattern.fullmatch(detail)
        if match is None:
            continue
        translated = catalog.gettext(template)
        if translated == template:
            return detail
        values = {name: translate(value, locale) for name, value in match.groupdict().items()}
        return translated % values
    return detail


def translate_validation_error(error: dict[str, Any], locale: str) -> str:
    """One Pydantic error's ``msg`` in ``locale`` (Pydantic's own English when ``locale`` is English)."""
    english = str(error.get("msg", "invalid value"))
    locale = pick_locale(locale)
    if locale == DEFAULT_LOCALE:
        return english
    kind = str(error.get("type", ""))
    context = {name: str(value) for name, value in (error.get("ctx") or {}).items()}
    catalog = translations(locale)
    if kind == "value_error" and "error" in context:
        reason = translate(context["error"], locale)
        return catalog.gettext("Value error, %(error)s") % {"error": reason}
    if kind in COUNTED_MESSAGES:
        singular, plural, count_name = COUNTED_MESSAGES[kind]
        try:
            count = int(context.get(count_name, "0"))
            return catalog.ngettext(singular, plural, count) % context
        except (KeyError, ValueError):
            return english
    if kind in VALIDATION_MESSAGES:
        try:
            return catalog.gettext(VALIDATION_MESSAGES[kind]) % context
        except (KeyError, ValueError):
            return english
    return translate(english, locale)
