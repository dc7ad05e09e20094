"""The app's strings exist in English and French, and the invitation letter names what the app shows."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "client_api" / "web"
LETTER = Path(__file__).resolve().parents[2] / "clinician_portal" / "letters" / "invitation.toml"


def _catalog(locale: str) -> dict[str, str]:
    return json.loads((WEB / "i18n" / f"{locale}.json").read_text(encoding="utf-8"))


def test_every_string_the_app_uses_is_in_both_catalogs() -> None:
    english, french = _catalog("en"), _catalog("fr")
    assert english.keys() == french.keys()
    assert all(value.strip() for value in [*english.values(), *french.values()])
    used = set()
    for script in WEB.glob("*.js"):
        used |= set(re.findall(r"\bt\('([a-z_]+\.[a-z_0-9]+)'", script.read_text(encoding="utf-8")))
    assert used and used <= english.keys(), sorted(used - english.keys())


@pytest.mark.parametrize(
    ("locale", "keys"),
    [
        ("en", ["welcome.invite", "activate.agree", "activate.submit"]),
        ("fr", ["welcome.invite", "activate.agree", "activate.submit"]),
    ],
)
def test_the_invitation_letter_steps_name_what_the_app_shows(locale: str, keys: list[str]) -> None:
    with LETTER.open("rb") as source:
        steps = " ".join(tomllib.load(source)[locale]["steps"])
    assert "{server}/app/" in steps
    catalog = _catalog(locale)
    for key in keys:
        assert catalog[key] in steps, (key, catalog[key])
