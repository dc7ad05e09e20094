"""Printable letters: the wording lives in TOML beside this module, one table per language."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from clinician_portal.templating import format_day, speaking
from service.kit.i18n import SUPPORTED_LOCALES, pick_locale

_FOLDER = Path(__file__).parent


@lru_cache
def _wording(name: str) -> dict[str, dict[str, Any]]:
    with (_FOLDER / f"{name}.toml").open("rb") as source:
        wording = tomllib.load(source)
    missing = set(SUPPORTED_LOCALES) - wording.keys()
    if missing:
        raise RuntimeError(f"letter {name!r} has no wording for {sorted(missing)}")
    return wording


@dataclass(frozen=True)
class InvitationLetter:
    locale: str
    title: str
    greeting: str
    intro: str
    steps_title: str
    steps: list[str]
    code_label: str
    code: str
    expiry: str
    privacy: str
    emergency: str
    closing: str


def invitation_letter(
    *,
    locale: str,
    patient_name: str,
    clinician_name: str,
    clinic_name: str,
    server: str,
    code: str,
    expires_at: datetime,
    timezone: str,
    country: str | None = None,
) -> InvitationLetter:
    """The invitation letter in the patient's language (values are escaped later by the template)."""
    locale = pick_locale(locale)
    text = _wording("invitation")[locale]
    with speaking(locale, country):
        expires = format_day(expires_at, timezone)
    values = {
        "name": patient_name,
        "clinician": clinician_name,
        "clinic": clinic_name,
        "server": server,
        "expires": expires,
    }

    def fill(template: str) -> str:
        return template.format_map(values)

    return InvitationLetter(
        locale=locale,
        title=fill(text["title"]),
        greeting=fill(text["greeting"]),
        intro=fill(text["intro"]),
        steps_title=fill(text["steps_title"]),
        steps=[fill(step) for step in text["steps"]],
        code_label=fill(text["code_label"]),
        code=code,
        expiry=fill(text["expiry"]),
        privacy=fill(text["privacy"]),
        emergency=fill(text["emergency"]),
        closing=fill(text["closing"]),
    )
