"""The exercise catalog, and the reading of a client's free-text answers into structured values.

Each exercise is a versioned data file, ``catalog/<code>.toml``, so that clinicians can review and
change texts and steps without touching code. ``catalog/_answers.toml`` holds, per language, the
words recognised in answers and the messages that ask again when an answer cannot be used.

Reading an answer never raises for anything a client might type: ``parse_answer`` returns either
the structured value or a localized message saying what is expected, and the coach asks again.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeAlias

from service.errors import NotFound
from service.kit.i18n import SUPPORTED_LOCALES as LOCALES
from service.kit.i18n import pick_locale
from service.kit.text import fold

CATALOG_DIR = Path(__file__).with_name("catalog")

# Answers are stored as JSON, so a value is only ever made of these.
AnswerValue: TypeAlias = str | int | float | bool | list[str] | list[dict[str, Any]] | dict[str, Any] | None

# A client message longer than this is cut before reading: no answer needs more, and it bounds the work.
MAX_MESSAGE_CHARS = 8000
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class CatalogError(ValueError):
    """A catalog data file is malformed. Raised at load time, never for client input."""


class StepKind(StrEnum):
    INFO = "info"
    TEXT = "text"
    NUMBER = "number"
    SCALE = "scale"
    CHOICE = "choice"
    MULTI_TEXT = "multi_text"
    EMOTION_RATINGS = "emotion_ratings"
    TIMER = "timer"
    CONFIRM = "confirm"


@dataclasses.dataclass(frozen=True)
class Localized:
    """One text in every supported language."""

    en: str
    fr: str

    def text(self, locale: str) -> str:
        return self.fr if pick_locale(locale) == "fr" else self.en


@dataclasses.dataclass(frozen=True)
class Validation:
    required: bool = True
    min_length: int | None = None
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    min_items: int | None = None
    max_items: int | None = None


@dataclasses.dataclass(frozen=True)
class ChoiceOption:
    value: str
    label: Localized


@dataclasses.dataclass(frozen=True)
class BreathingPattern:
    inhale_seconds: int
    hold_seconds: int
    exhale_seconds: int
    cycles: int
    # Rounds of ``cycles`` breaths; the coach counts each one only when the client says it is done.
    rounds: int = 1

    @property
    def name(self) -> str:
        """The usual short name: "4-6", or "4-7-8" when there is a hold."""
        if self.hold_seconds:
            return f"{self.inhale_seconds}-{self.hold_seconds}-{self.exhale_seconds}"
        return f"{self.inhale_seconds}-{self.exhale_seconds}"


@dataclasses.dataclass(frozen=True)
class Step:
    id: str
    kind: StepKind
    field: str | None  # where the answer is stored; None for info steps
    prompt: Localized
    help: Localized | None = None
    validation: Validation = Validation()
    options: tuple[ChoiceOption, ...] = ()
    breathing: BreathingPattern | None = None
    reflection: Localized | None = None  # said back once the answer is accepted
    detect_traps: bool = False  # the coach looks for thinking traps in this answer
    # Confirm steps only: said when the client answers "not yet"; the step then waits for "yes".
    wait_message: Localized | None = None
    # Scale steps: words (any language, folded) a client may use to name this rating when they give
    # two in one message ("mastery 6, pleasure 4").
    aliases: tuple[str, ...] = ()
    # Choice steps only: an answer that is none of the options (or several) is kept in the client's words.
    own_words: bool = False


@dataclasses.dataclass(frozen=True)
class Comparison:
    """A before/after pair shown in the closing summary under ``name``."""

    name: str
    before: str
    after: str


@dataclasses.dataclass(frozen=True)
class Exercise:
    code: str
    version: int
    title: Localized
    summary: Localized
    description: Localized
    minutes: int
    steps: tuple[Step, ...]
    closing: Localized
    comparisons: tuple[Comparison, ...] = ()

    def step_for_field(self, field: str) -> Step | None:
        return next((s for s in self.steps if s.field == field), None)


@dataclasses.dataclass(frozen=True)
class AnswerResult:
    """Either ``ok`` with the structured ``value``, or a localized ``reask`` and a ``problem`` code."""

    ok: bool
    value: AnswerValue = None
    reask: str | None = None
    problem: str | None = None  # e.g. "help", "number_missing", "emotion_unrated"


# ---------------------------------------------------------------- loading the catalog


def load_catalog() -> dict[str, Exercise]:
    """Every exercise by code. The files are read once per process."""
    return dict(_catalog())


def get_exercise(code: str) -> Exercise:
    exercise = _catalog().get(code)
    if exercise is None:
        raise NotFound(f"No exercise with code {code!r}.")
    return exercise


def list_exercises(locale: str) -> list[dict[str, Any]]:
    """The catalog as a client or clinician sees it, sorted by title in ``locale``."""
    rows = [
        {
            "code": e.code,
            "title": e.title.text(locale),
            "summary": e.summary.text(locale),
            "minutes": e.minutes,
        }
        for e in _catalog().values()
    ]
    return sorted(rows, key=lambda row: fold(row["title"]))


@cache
def _catalog() -> Mapping[str, Exercise]:
    exercises = {}
    for path in sorted(CATALOG_DIR.glob("*.toml")):
        if path.name.startswith("_"):
            continue
        exercise = _read_exercise(path)
        exercises[exercise.code] = exercise
    return MappingProxyType(exercises)


def _read_exercise(path: Path) -> Exercise:
    with path.open("rb") as file:
        raw = tomllib.load(file)
    try:
        exercise = _build_exercise(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"{path.name}: {exc}") from exc
    if exercise.code != path.stem:
        raise CatalogError(f"{path.name}: code {exercise.code!r} does not match the file name")
    _check_exercise(exercise, path.name)
    return exercise


def _build_exercise(raw: dict[str, Any]) -> Exercise:
    return Exercise(
        code=str(raw["code"]),
        version=int(raw["version"]),
        title=_localized(raw["title"]),
        summary=_localized(raw["summary"]),
        description=_localized(raw["description"]),
        minutes=int(raw["minutes"]),
        steps=tuple(_build_step(s) for s in raw["steps"]),
        closing=_localized(raw["closing"]),
        comparisons=tuple(Comparison(**c) for c in raw.get("comparisons", [])),
    )


def _build_step(raw: dict[str, Any]) -> Step:
    kind = StepKind(raw["kind"])
    return Step(
        id=str(raw["id"]),
        kind=kind,
        field=raw.get("field"),
        prompt=_localized(raw["prompt"]),
        help=_optional_localized(raw.get("help")),
        validation=_build_validation(kind, raw.get("validation", {})),
        options=tuple(ChoiceOption(str(o["value"]), _localized(o["label"])) for o in raw.get("options", [])),
        breathing=BreathingPattern(**raw["breathing"]) if "breathing" in raw else None,
        reflection=_optional_localized(raw.get("reflection")),
        detect_traps=bool(raw.get("detect_traps", False)),
        wait_message=_optional_localized(raw.get("wait_message")),
        aliases=tuple(fold(str(a)) for a in raw.get("aliases", [])),
        own_words=bool(raw.get("own_words", False)),
    )


# Limits that hold unless a step says otherwise, so that no answer is unbounded.
_KIND_DEFAULTS: dict[StepKind, dict[str, Any]] = {
    StepKind.TEXT: {"min_length": 1, "max_length": 2000},
    StepKind.MULTI_TEXT: {"min_items": 1, "max_items": 20, "max_length": 300},
    StepKind.EMOTION_RATINGS: {"min_items": 1, "max_items": 8, "min_value": 0, "max_value": 100},
}


def _build_validation(kind: StepKind, raw: dict[str, Any]) -> Validation:
    return Validation(**{**_KIND_DEFAULTS.get(kind, {}), **raw})


def _localized(raw: Mapping[str, str]) -> Localized:
    missing = [lang for lang in LOCALES if not str(raw.get(lang, "")).strip()]
    if missing:
        raise ValueError(f"text without {', '.join(missing)}: {raw!r}")
    return Localized(en=raw["en"], fr=raw["fr"])


def _optional_localized(raw: Mapping[str, str] | None) -> Localized | None:
    return None if raw is None else _localized(raw)


def _check_exercise(exercise: Exercise, where: str) -> None:
    """Catch data mistakes at start-up rather than in front of a client."""
    seen: set[str] = set()
    for step in exercise.steps:
        _check_step_shape(step, where)
        if step.field in seen:
            raise CatalogError(f"{where}: field {step.field!r} is used by two steps")
        known_before = set(seen) | (_TIMER_VALUES if step.kind is StepKind.TIMER else set())
        _check_placeholders(step.prompt, known_before, f"{where} {step.id} prompt")
        if step.wait_message:
            _check_placeholders(step.wait_message, known_before, f"{where} {step.id} wait_message")
        if step.field:
            seen.add(step.field)
        if step.reflection:
            _check_placeholders(step.reflection, seen, f"{where} {step.id} reflection")
    for comparison in exercise.comparisons:
        if not {comparison.before, comparison.after} <= seen:
            raise CatalogError(f"{where}: comparison {comparison.name!r} refers to an unknown field")
    _check_placeholders(exercise.closing, seen | {c.name for c in exercise.comparisons}, f"{where} closing")


_TIMER_VALUES = {"inhale", "hold", "exhale", "cycles", "rounds"}


def _check_step_shape(step: Step, where: str) -> None:
    label = f"{where} step {step.id!r}"
    if (step.field is None) != (step.kind is StepKind.INFO):
        raise CatalogError(f"{label}: every step but info steps needs a field")
    if step.kind is StepKind.CHOICE and len(step.options) < 2:
        raise CatalogError(f"{label}: a choice needs at least two options")
    if step.kind is StepKind.TIMER and step.breathing is None:
        raise CatalogError(f"{label}: a timer needs a breathing pattern")
    if step.kind in (StepKind.SCALE,) and None in (step.validation.min_value, step.validation.max_value):
        raise CatalogError(f"{label}: a scale needs min_value and max_value")
    if step.own_words and step.kind is not StepKind.CHOICE:
        raise CatalogError(f"{label}: only choice steps take an answer in the client's own words")
    if step.wait_message and step.kind is not StepKind.CONFIRM:
        raise CatalogError(f"{label}: only confirm steps can wait")


def _check_placeholders(text: Localized, known: set[str], where: str) -> None:
    for lang in LOCALES:
        unknown = set(PLACEHOLDER.findall(text.text(lang))) - known
        if unknown:
            raise CatalogError(f"{where} ({lang}) uses unknown placeholders {sorted(unknown)}")
