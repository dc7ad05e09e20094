"""The standard questionnaires (PHQ-9, GAD-7, C-SSRS screener), read from their data files.

The texts, options, bands and triage rules live in `definitions/*.json` so that a clinician can
review or change them without touching code. Loading checks the files hard: a broken definition
must stop the service at start-up, never score a client's answers wrongly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from service.errors import NotFound
from service.kit.i18n import SUPPORTED_LOCALES as LOCALES
from service.kit.i18n import pick_locale

DEFINITIONS_DIR = Path(__file__).with_name("definitions")

Text = dict[str, str]
"""One text in every supported locale: {"en": ..., "fr": ...}."""


class DefinitionError(ValueError):
    """An instrument data file is malformed. A deployment error, never shown to a client."""


@dataclass(frozen=True)
class Option:
    value: int
    label: Text
    loinc: str | None


@dataclass(frozen=True)
class AskIf:
    """Skip logic: the item is asked only when an earlier item got this answer."""

    item: str
    answer: int


@dataclass(frozen=True)
class Item:
    id: str
    loinc: str | None
    text: Text
    options: tuple[Option, ...]
    ask_if: AskIf | None = None

    @property
    def lowest(self) -> int:
        return min(option.value for option in self.options)

    @property
    def highest(self) -> int:
        return max(option.value for option in self.options)

    def option(self, value: int) -> Option:
        return next(option for option in self.options if option.value == value)

    def localized(self, locale: str) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "id": self.id,
            "loinc": self.loinc,
            "text": self.text[locale],
            "options": [{"value": option.value, "label": option.label[locale]} for option in self.options],
        }
        if self.ask_if is not None:
            shape["ask_if"] = {"item": self.ask_if.item, "answer": self.ask_if.answer}
        return shape


@dataclass(frozen=True)
class SeverityBand:
    min: int
    max: int
    key: str
    label: Text

    def contains(self, total: int) -> bool:
        return self.min <= total <= self.max


@dataclass(frozen=True)
class TriageLevel:
    key: str
    label: Text


@dataclass(frozen=True)
class TriageRule:
    """The rule's level applies when every listed item got the listed answer."""

    level: str
    when: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ChangeRules:
    """Thresholds for measurement-based care (NHS Talking Therapies)."""

    reliable_change: int
    caseness: int


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    display_order: int
    loinc_panel: str | None
    loinc_total: str | None
    title: Text
    stem: Text | None
    instructions: Text | None
    recall_period: str
    source: Text
    items: tuple[Item, ...]
    difficulty_item: Item | None
    severity_bands: tuple[SeverityBand, ...]
    triage_levels: tuple[TriageLevel, ...]
    triage_rules: tuple[TriageRule, ...]
    change_rules: ChangeRules | None

    @property
    def has_total(self) -> bool:
        """Scored by a total and severity bands (PHQ-9, GAD-7), not by triage rules (C-SSRS)."""
        return bool(self.severity_bands)

    @cached_property
    def max_total(self) -> int:
        # Read for every total validated (a caseload page checks hundreds): computed once.
        return sum(item.highest for item in self.items)

    def position(self, item_id: str) -> int:
        """Zero-based index of an item in the answers list."""
        for index, item in enumerate(self.items):
            if item.id == item_id:
                return index
        raise KeyError(item_id)

    def localized(self, locale: str) -> dict[str, Any]:
        """The JSON-ready shape a client app renders, in `locale` (English when unsupported)."""
        lang = pick_locale(locale)
        shape: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "locale": lang,
            "title": self.title[lang],
            "stem": self.stem[lang] if self.stem else None,
            "instructions": self.instructions[lang] if self.instructions else None,
            "recall_period": self.recall_period,
            "source": self.source[lang],
            "items": [item.localized(lang) for item in self.items],
        }
        if self.difficulty_item is not None:
            shape["difficulty_item"] = self.difficulty_item.localized(lang)
        return shape


def get_instrument(code: str) -> Instrument:
    try:
        return _registry()[code]
    except KeyError:
        raise NotFound(f"unknown instrument '{code}'") from None


def all_instruments() -> tuple[Instrument, ...]:
    return tuple(sorted(_registry().values(), key=lambda instrument: instrument.display_order))


@cache
def _registry() -> dict[str, Instrument]:
    instruments = [load_definition(path) for path in sorted(DEFINITIONS_DIR.glob("*.json"))]
    registry = {instrument.code: instrument for instrument in instruments}
    if len(registry) != len(instruments):
        raise DefinitionError("two instrument definitions share a code")
    return registry


def load_definition(path: Path) -> Instrument:
    """Read and check one definition file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        instrument = _build(raw)
        _check(instrument)
    except (KeyError, TypeError, ValueError) as exc:
        raise DefinitionError(f"{path.name}: {exc}") from exc
    return instrument


def _build(raw: Mapping[str, Any]) -> Instrument:
    shared_options = _options(raw.get("options", []))
    difficulty = raw.get("difficulty_item")
    triage = raw.get("triage") or {}
    change = raw.get("change")
    return Instrument(
        code=raw["code"],
        name=raw["name"],
        display_order=int(raw.get("display_order", 0)),
        loinc_panel=raw["loinc"].get("panel"),
        loinc_total=raw["loinc"].get("total"),
        title=_text(raw["title"]),
        stem=_text(raw["stem"]) if raw.get("stem") else None,
        instructions=_text(raw["instructions"]) if raw.get("instructions") else None,
        recall_period=raw["recall_period"],
        source=_text(raw["source"]),
        items=tuple(_item(item, shared_options) for item in raw["items"]),
        difficulty_item=_item(difficulty, ()) if difficulty else None,
        severity_bands=tuple(
            SeverityBand(min=band["min"], max=band["max"], key=band["key"], label=_text(band["label"]))
            for band in raw.get("severity_bands", [])
        ),
        triage_levels=tuple(
            TriageLevel(key=level["key"], label=_text(level["label"])) for level in triage.get("levels", [])
        ),
        triage_rules=tuple(
            TriageRule(level=rule["level"], when=tuple((str(k), int(v)) for k, v in rule["when"].items()))
            for rule in triage.get("rules", [])
        ),
        change_rules=ChangeRules(change["reliable_change"], change["caseness"]) if change else None,
    )


def _text(raw: Mapping[str, str]) -> Text:
    missing = [locale for locale in LOCALES if not raw.get(locale)]
    if missing:
        raise ValueError(f"text {raw!r} lacks {', '.join(missing)}")
    return {locale: raw[locale] for locale in LOCALES}


def _options(raw: list[Mapping[str, Any]]) -> tuple[Option, ...]:
    return tuple(Option(value=o["value"], label=_text(o["label"]), loinc=o.get("loinc")) for o in raw)


def _item(raw: Mapping[str, Any], shared_options: tuple[Option, ...]) -> Item:
    ask_if = raw.get("ask_if")
    return Item(
        id=str(raw["id"]),
        loinc=raw.get("loinc"),
        text=_text(raw["text"]),
        options=_options(raw["options"]) if "options" in raw else shared_options,
        ask_if=AskIf(item=str(ask_if["item"]), answer=ask_if["answer"]) if ask_if else None,
    )


def _check(instrument: Instrument) -> None:
    if not instrument.items:
        raise ValueError("no items")
    ids = [item.id for item in instrument.items]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate item ids")
    for item in (*instrument.items, *filter(None, [instrument.difficulty_item])):
        _check_options(item)
    _check_skip_logic(instrument)
    if instrument.has_total == bool(instrument.triage_levels):
        raise ValueError("an instrument is scored either by severity bands or by triage rules")
    if instrument.has_total:
        _check_bands(instrument)
    else:
        _check_triage(instrument)


def _check_options(item: Item) -> None:
    values = sorted(option.value for option in item.options)
    # Answers are validated as a range, so the values must run 0, 1, 2... without gaps.
    if values != list(range(len(values))) or len(values) < 2:
        raise ValueError(f"item {item.id}: option values must be 0, 1, 2... without gaps")
    if any(isinstance(value, bool) for value in values):
        raise ValueError(f"item {item.id}: option values must be integers")


def _check_skip_logic(instrument: Instrument) -> None:
    seen: dict[str, Item] = {}
    for item in instrument.items:
        if item.ask_if is not None:
            condition = seen.get(item.ask_if.item)
            if condition is None:
                raise ValueError(f"item {item.id} depends on item {item.ask_if.item}, which must come first")
            if not condition.lowest <= item.ask_if.answer <= condition.highest:
                raise ValueError(f"item {item.id}: ask_if answer is not an option of item {condition.id}")
        seen[item.id] = item


def _check_bands(instrument: Instrument) -> None:
    expected_min = 0
    for band in instrument.severity_bands:
        if band.min != expected_min or band.max < band.min:
            raise ValueError(f"severity band {band.key} must start at {expected_min}")
        expected_min = band.max + 1
    if expected_min != instrument.max_total + 1:
        raise ValueError(f"severity bands must end at the maximum total {instrument.max_total}")


def _check_triage(instrument: Instrument) -> None:
    levels = {level.key for level in instrument.triage_levels}
    for rule in instrument.triage_rules:
        if rule.level not in levels:
            raise ValueError(f"triage rule names unknown level {rule.level}")
        for item_id, answer in rule.when:
            item = instrument.items[instrument.position(item_id)]
            if not item.lowest <= answer <= item.highest:
                raise ValueError(f"triage rule: {answer} is not an option of item {item_id}")
