"""Checking and scoring a client's answers to a standard questionnaire.

Answers are a list of option values in item order. Items skipped by the C-SSRS flow are sent
as 0 ("no"), so every response has the same length and a stored response can be re-scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.errors import Invalid
from service.measures.instruments import Instrument, Item, get_instrument


@dataclass(frozen=True)
class Score:
    instrument: str
    total: int | None
    """Sum of the item scores; None for the C-SSRS, which is triaged, not summed."""
    severity: str
    """Severity band key (PHQ-9, GAD-7) or triage level none/low/moderate/high (C-SSRS)."""
    severity_label: dict[str, str]
    item_scores: tuple[int, ...]
    difficulty: int | None
    """PHQ-9 only: how difficult the problems made daily life (0..3), never part of the total."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "total": self.total,
            "severity": self.severity,
            "severity_label": dict(self.severity_label),
            "item_scores": list(self.item_scores),
            "difficulty": self.difficulty,
        }


def validate_answers(instrument: Instrument | str, answers: Sequence[int]) -> None:
    """Raise `Invalid`, saying what is wrong, unless `answers` is a complete, coherent response."""
    instrument = _resolve(instrument)
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise Invalid(f"{instrument.name} answers must be a list of whole numbers")
    _check_count(instrument, answers)
    for item, answer in zip(_questions(instrument), answers, strict=False):
        _check_answer(instrument, item, answer)
    _check_skip_logic(instrument, answers)


def score(instrument: Instrument | str, answers: Sequence[int]) -> Score:
    """Validate, then score: a total and severity band, or the C-SSRS triage level."""
    instrument = _resolve(instrument)
    validate_answers(instrument, answers)
    item_count = len(instrument.items)
    item_scores = tuple(answers[:item_count])
    difficulty = answers[item_count] if len(answers) > item_count else None
    if instrument.has_total:
        total = sum(item_scores)
        band = next(band for band in instrument.severity_bands if band.contains(total))
        return Score(instrument.code, total, band.key, dict(band.label), item_scores, difficulty)
    level = triage(instrument, item_scores)
    label = next(lv.label for lv in instrument.triage_levels if lv.key == level)
    return Score(instrument.code, None, level, dict(label), item_scores, difficulty)


def triage(instrument: Instrument, item_scores: Sequence[int]) -> str:
    """The highest level whose rule the answers meet; the lowest level when none is met."""
    order = [level.key for level in instrument.triage_levels]
    met = [
        order.index(rule.level)
        for rule in instrument.triage_rules
        if all(item_scores[instrument.position(item_id)] == answer for item_id, answer in rule.when)
    ]
    return order[max(met, default=0)]


def _resolve(instrument: Instrument | str) -> Instrument:
    return get_instrument(instrument) if isinstance(instrument, str) else instrument


def _questions(instrument: Instrument) -> tuple[Item, ...]:
    """Everything the client may answer, in answer order: the items, then any difficulty item."""
    extra = (instrument.difficulty_item,) if instrument.difficulty_item is not None else ()
    return (*instrument.items, *extra)


def _check_count(instrument: Instrument, answers: Sequence[Any]) -> None:
    expected = len(instrument.items)
    if len(answers) == expected or (instrument.difficulty_item is not None and len(answers) == expected + 1):
        return
    got = f"{len(answers)} answer" + ("" if len(answers) == 1 else "s")
    detail = f"{instrument.name} has {expected} items; got {got}"
    if instrument.difficulty_item is not None:
        detail += f" (an answer to the difficulty question may follow as answer {expected + 1})"
    raise Invalid(detail)


def _check_answer(instrument: Instrument, item: Item, answer: Any) -> None:
    where = _where(instrument, item)
    # bool is an int in Python; a client sending true/false has misunderstood the scale.
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise Invalid(f"{where}: the answer must be a whole number from {item.lowest} to {item.highest}")
    if not item.lowest <= answer <= item.highest:
        raise Invalid(f"{where}: the answer must be from {item.lowest} to {item.highest}; got {answer}")


def _check_skip_logic(instrument: Instrument, answers: Sequence[int]) -> None:
    for index, item in enumerate(instrument.items):
        if item.ask_if is None:
            continue
        condition = instrument.items[instrument.position(item.ask_if.item)]
        given = answers[instrument.position(condition.id)]
        if given == item.ask_if.answer or answers[index] == item.lowest:
            continue
        raise Invalid(
            f"{instrument.name} item {item.id} is asked only when item {condition.id} is "
            f"'{condition.option(item.ask_if.answer).label['en']}'; item {condition.id} was "
            f"'{condition.option(given).label['en']}', so item {item.id} must be {item.lowest}"
        )


def _where(instrument: Instrument, item: Item) -> str:
    if item is instrument.difficulty_item:
        return f"{instrument.name} difficulty question"
    return f"{instrument.name} item {item.id}"
