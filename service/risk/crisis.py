"""Localized crisis resources for a client: the emergency number first, then the crisis lines.

Read from crisis_resources.toml beside this module; checked at import so a broken file fails at
start-up, never when a client in crisis needs it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.risk.locales import primary_language

LOCALES = ("en", "fr")
FALLBACK_COUNTRY = "other"
KINDS = ("crisis", "emergency", "text")
_ALIASES = {"UK": "GB"}
_PATH = Path(__file__).parent / "crisis_resources.toml"


@dataclass(frozen=True, slots=True)
class CrisisResources:
    message: str
    resources: list[dict[str, str]] = field(default_factory=list)
    country: str = FALLBACK_COUNTRY  # the table used: an ISO code, or "other"
    locale: str = "en"

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "resources": [dict(resource) for resource in self.resources]}


def crisis_resources(country: str | None, locale: str) -> CrisisResources:
    """Resources for a client in `country` (ISO 3166 code, any case) reading `locale` ("fr-CA" is fr).

    An unknown or missing country gets the international fallback; an unknown locale gets English.
    """
    code = (country or "").strip().upper()
    code = _ALIASES.get(code, code)
    if code not in _COUNTRIES:
        code = FALLBACK_COUNTRY
    lang = primary_language(locale)
    if lang not in LOCALES:
        lang = "en"
    entry = _COUNTRIES[code]
    resources = [_localized(resource, lang) for resource in entry["resources"]]
    return CrisisResources(entry["message"][lang], resources, code, lang)


def countries() -> list[str]:
    """The countries with their own table, plus "other"."""
    return list(_COUNTRIES)


def _localized(resource: dict[str, Any], lang: str) -> dict[str, str]:
    shown = {"name": resource["name"][lang]}
    if "phone" in resource:
        shown["phone"] = resource["phone"]
    if "url" in resource:
        shown["url"] = resource["url"]
    if "hours" in resource:
        shown["hours"] = resource["hours"][lang]
    shown["kind"] = resource["kind"]
    return shown


def _load(path: Path) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8"))["countries"]
    if FALLBACK_COUNTRY not in table:
        raise ValueError(f"{path.name}: the '{FALLBACK_COUNTRY}' table is missing")
    for code, entry in table.items():
        where = f"{path.name} [{code}]"
        emergency = entry.get("emergency")
        if not emergency or set(entry.get("message", {})) != set(LOCALES):
            raise ValueError(f"{where}: needs an emergency number and a message in {', '.join(LOCALES)}")
        if any(emergency not in entry["message"][lang] for lang in LOCALES):
            raise ValueError(f"{where}: every message must name the emergency number {emergency}")
        for resource in entry.get("resources", []):
            _check_resource(resource, where)
        if not any(resource.get("phone") == emergency for resource in entry.get("resources", [])):
            raise ValueError(f"{where}: the emergency number must also be listed as a resource")
    return table


def _check_resource(resource: dict[str, Any], where: str) -> None:
    if resource.get("kind") not in KINDS:
        raise ValueError(f"{where}: a resource kind must be one of {', '.join(KINDS)}")
    for key in ("name", "hours"):
        if key in resource and set(resource[key]) != set(LOCALES):
            raise ValueError(f"{where}: '{key}' must be given in {', '.join(LOCALES)}")
    if "name" not in resource or not ("phone" in resource or "url" in resource):
        raise ValueError(f"{where}: a resource needs a name and a phone number or an address")


_COUNTRIES = _load(_PATH)
