"""What people read follows the house rules of each language, checked on the catalogs themselves:
one word for the person in care ("patient" in English and in French: the portal's word, its
routes and CONTRACT.md's), and French typography (a non-breaking space before « ; : ? ! » and
inside « », no "(s)" or "(e)" where the count or the person is known, no "de"/"à" glued to a
clinic's name such as "de Centre Tandem Lyon"), and dates that write the first of the month "1er"."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from clinician_portal.templating import format_day, format_short_date, format_when, speaking
from service.kit.i18n import LOCALES_DIR

ROOT = Path(__file__).resolve().parent.parent
NBSP = "\u00a0\u202f"


def _catalog() -> Iterator[tuple[str, str]]:
    """(English, French) for every message of the Babel catalog, plural forms included."""
    with (LOCALES_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale="fr")
    for message in catalog:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        french = message.string if isinstance(message.string, tuple) else (message.string,)
        for index, text in enumerate(french):
            yield english[min(index, len(english) - 1)], text


def _labels(table: object) -> Iterator[tuple[str, str]]:
    """Every {en = ..., fr = ...} pair in a data file's nested tables."""
    if isinstance(table, dict):
        if isinstance(table.get("en"), str) and isinstance(table.get("fr"), str):
            yield table["en"], table["fr"]
        for value in table.values():
            yield from _labels(value)


def _letter() -> Iterator[tuple[str, str]]:
    letter = tomllib.loads((ROOT / "clinician_portal" / "letters" / "invitation.toml").read_text(encoding="utf-8"))
    for key, english in letter["en"].items():
        french = letter["fr"][key]
        yield from zip(english, french, strict=True) if isinstance(english, list) else [(english, french)]


def _client_app() -> Iterator[tuple[str, str]]:
    web = ROOT / "client_api" / "web" / "i18n"
    english = json.loads((web / "en.json").read_text(encoding="utf-8"))
    french = json.loads((web / "fr.json").read_text(encoding="utf-8"))
    for key, text in french.items():
        yield english.get(key, ""), text


def _texts() -> list[tuple[str, str, str]]:
    """(where, English, French) of every catalog a person reads: portal, PDF summary, client app."""
    found = [("messages.po", en, fr) for en, fr in _catalog()]
    for name in ("alerts/policy.toml", "alerts/messages.toml", "audit/actions.toml", "summaries/texts.toml"):
        data = tomllib.loads((ROOT / "service" / name).read_text(encoding="utf-8"))
        found += [(name, en, fr) for en, fr in _labels(data)]
    found += [("invitation.toml", en, fr) for en, fr in _letter()]
    found += [("client app fr.json", en, fr) for en, fr in _client_app()]
    return found


TEXTS = _texts()


def _french_sections(data: dict) -> Iterator[tuple[str, str]]:
    """(English, French) of the texts of files laid out as an [en] and a [fr] table with the same keys
    (word lists to match what a patient types are not sentences, and are left out)."""

    def pair(english: object, french: object) -> Iterator[tuple[str, str]]:
        if isinstance(english, str) and isinstance(french, str):
            yield english, french
        elif isinstance(english, dict) and isinstance(french, dict):
            for key, value in english.items():
                yield from pair(value, french.get(key))

    yield from pair(data.get("en"), data.get("fr"))


def _nested_labels(table: object) -> Iterator[tuple[str, str]]:
    """Every {en = ..., fr = ...} pair, in tables and in arrays of tables (an exercise's steps)."""
    if isinstance(table, list):
        for item in table:
            yield from _nested_labels(item)
    elif isinstance(table, dict):
        if isinstance(table.get("en"), str) and isinstance(table.get("fr"), str):
            yield table["en"], table["fr"]
        for value in table.values():
            yield from _nested_labels(value)


# What a patient reads in a crisis and during a guided exercise: the crisis lines and their
# messages, each exercise's words, and what the guide says around them.
SPOKEN_FILES = [
    ROOT / "service" / "risk" / "crisis_resources.toml",
    ROOT / "service" / "exercises" / "texts.toml",
    ROOT / "service" / "exercises" / "coach" / "data" / "texts.toml",
    *sorted((ROOT / "service" / "exercises" / "catalog").glob("*.toml")),
]


def _spoken() -> list[tuple[str, str, str]]:
    found = []
    for path in SPOKEN_FILES:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        pairs = [*_nested_labels(data), *_french_sections(data)]
        found += [(str(path.relative_to(ROOT)), en, fr) for en, fr in pairs]
    return found


SPOKEN = _spoken()
FRENCH_SPACING = [
    ("a plain space or none before ; ? ! or :", r"(?:[ \t\n]|(?<=[\w»)]))[;?!:](?=[ \t\n]|$)"),
    ("a plain space inside « »", r"« | »"),
    ("guillemets without a space inside", rf"«[^{NBSP}]|[^{NBSP}]»"),
]


def _breaking(texts: list[tuple[str, str, str]], pattern: str) -> list[str]:
    plain = re.compile(pattern)
    # "http://..." and "10:30" are not punctuation of a sentence.
    return [
        f"{where}: {fr!r}"
        for where, _, fr in texts
        if any(plain.search(part) for part in re.split(r"https?://\S+|\{\w+\}|%\(\w+\)[sd]|\d+:\d+", fr))
    ]


def test_the_catalogs_hold_the_texts_they_are_checked_on() -> None:
    places = {where for where, _, _ in TEXTS}
    assert len(TEXTS) > 700 and len(places) == 7


def test_one_word_for_the_person_in_care_in_each_language() -> None:
    # The code names the role "client" (the client API, /app/); what people read says "patient".
    # "client id" and "client secret" are OAuth's names for Tandem itself at an identity provider.
    oauth = re.compile(r"\bclient (?:id|secret)\b|\b(?:identifiant|secret) client\b", re.I)
    english = [en for _, en, _ in TEXTS if re.search(r"\bclients?\b", oauth.sub("", en), re.I)]
    french = [fr for _, _, fr in TEXTS if re.search(r"\bclient(e)?s?\b", oauth.sub("", fr), re.I)]
    assert english == [] and french == []


@pytest.mark.parametrize(
    ("rule", "pattern"),
    [
        *FRENCH_SPACING,
        ("(s) or (e) instead of agreeing with the count or the person", r"\((?:s|e|es|ent)\)"),
        ("a preposition glued to a clinic's name", r"\b(?:de|à|du|au)\s+(?:%\(clinic\)s|\{clinic\})"),
    ],
)
def test_french_typography(rule: str, pattern: str) -> None:
    assert _breaking(TEXTS, pattern) == [], rule


def test_the_crisis_lines_and_exercise_texts_are_checked() -> None:
    places = {where for where, _, _ in SPOKEN}
    assert places == {str(path.relative_to(ROOT)) for path in SPOKEN_FILES}
    assert len(SPOKEN) > 250


@pytest.mark.parametrize(("rule", "pattern"), FRENCH_SPACING)
def test_french_spacing_in_the_crisis_lines_and_exercises(rule: str, pattern: str) -> None:
    assert _breaking(SPOKEN, pattern) == [], rule


@pytest.mark.parametrize(
    ("style", "expected"),
    [("long", "1er octobre 2026"), ("full", "jeudi 1er octobre 2026"), ("medium", "1er oct. 2026")],
)
def test_french_dates_write_the_first_of_the_month_1er(style: str, expected: str) -> None:
    first = datetime(2026, 10, 1, 10, 30, tzinfo=UTC)
    with speaking("fr", "FR"):
        assert format_day(first, "Europe/Paris", style) == expected
        assert format_when(first, "Europe/Paris", style).startswith(expected)
        assert format_short_date(first) == "1er oct."
        assert format_day(datetime(2026, 10, 11, tzinfo=UTC), "Europe/Paris") == "11 octobre 2026"
    with speaking("en", "GB"):
        assert format_day(first, "Europe/London") == "1 October 2026"
