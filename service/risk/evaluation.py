"""Measuring the text screen against labelled messages, level by level and per language.

A labelled set is one TSV file per language (`en.tsv`, `fr.tsv`): a header `level<TAB>text`, then
one message per line. Blank lines and lines starting with `#` are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.errors import Invalid
from service.risk.levels import RiskLevel, RiskResult
from service.risk.locales import primary_language
from service.risk.text import screen_text
from service.risk.version import ENGINE_VERSION

# The bar the screen must clear on the labelled set, in every language.
TARGETS = {"sensitivity": 0.97, "specificity": 0.95, "high_risk_recall": 0.95}
_HEADER = ("level", "text")


@dataclass(frozen=True, slots=True)
class LabelledCase:
    lang: str
    level: RiskLevel
    text: str
    source: str  # file and line, e.g. "en.tsv:12"


@dataclass(frozen=True, slots=True)
class Misclassified:
    case: LabelledCase
    screened: RiskResult


@dataclass(frozen=True, slots=True)
class Scores:
    """Rates are None when nothing in the set could measure them (no case at that level)."""

    n: int
    sensitivity: float | None  # true level low or above, screened low or above
    specificity: float | None  # true level none, screened none
    high_risk_recall: float | None  # true level high, screened high
    exact_accuracy: float | None  # screened level equals the true level

    def shortfalls(self) -> list[str]:
        """The targets this language misses, in words."""
        missed = []
        for name, target in TARGETS.items():
            value = getattr(self, name)
            if value is None or value < target:
                shown = "n/a" if value is None else f"{value:.3f}"
                missed.append(f"{name.replace('_', ' ')} {shown} < {target:.2f}")
        return missed

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "sensitivity": self.sensitivity,
            "specificity": self.specificity,
            "high_risk_recall": self.high_risk_recall,
            "exact_accuracy": self.exact_accuracy,
        }


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    by_language: dict[str, Scores]
    overall: Scores
    misclassified: list[Misclassified]
    engine_version: str = ENGINE_VERSION

    def meets_targets(self) -> bool:
        return not any(scores.shortfalls() for scores in self.by_language.values())

    def format_table(self) -> str:
        lines = [
            f"Risk screen evaluation ({self.engine_version})",
            f"{'language':<10}{'n':>6}{'sensitivity':>13}{'specificity':>13}{'high recall':>13}{'exact':>8}",
        ]
        rows = [*self.by_language.items(), ("overall", self.overall)]
        for name, scores in rows:
            lines.append(
                f"{name:<10}{scores.n:>6}{_rate(scores.sensitivity):>13}{_rate(scores.specificity):>13}"
                f"{_rate(scores.high_risk_recall):>13}{_rate(scores.exact_accuracy):>8}"
            )
        targets = ", ".join(f"{name.replace('_', ' ')} >= {value:.2f}" for name, value in TARGETS.items())
        lines.append(f"targets per language: {targets}: {'met' if self.meets_targets() else 'NOT met'}")
        lines.append(f"misclassified: {len(self.misclassified)}")
        for wrong in self.misclassified:
            rules = ", ".join(item.rule for item in wrong.screened.evidence) or "no rule"
            expected, screened = wrong.case.level.label, wrong.screened.level.label
            lines.append(
                f"  {wrong.case.source}: expected {expected}, screened {screened} ({rules}): {wrong.case.text}"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine_version": self.engine_version,
            "languages": {lang: scores.to_dict() for lang, scores in self.by_language.items()},
            "overall": self.overall.to_dict(),
            "meets_targets": self.meets_targets(),
            "misclassified": [
                {
                    "source": wrong.case.source,
                    "lang": wrong.case.lang,
                    "text": wrong.case.text,
                    "expected": wrong.case.level.label,
                    "screened": wrong.screened.to_dict(),
                }
                for wrong in self.misclassified
            ],
        }


def load_labelled(path: Path) -> list[LabelledCase]:
    """The cases in one TSV file, or in every `*.tsv` file of a folder (language = file name)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.tsv"))
        if not files:
            raise Invalid(f"No labelled .tsv files in {path}.")
        return [case for file in files for case in _load_file(file)]
    if not path.is_file():
        raise Invalid(f"No labelled set at {path}.")
    return _load_file(path)


def evaluate(cases: Iterable[LabelledCase], screen: Callable[[str, str], RiskResult] = screen_text) -> EvaluationReport:
    screened = [(case, screen(case.text, case.lang)) for case in cases]
    languages = sorted({case.lang for case, _ in screened})
    return EvaluationReport(
        by_language={lang: _scores([pair for pair in screened if pair[0].lang == lang]) for lang in languages},
        overall=_scores(screened),
        misclassified=[Misclassified(case, result) for case, result in screened if result.level != case.level],
    )


def _load_file(path: Path) -> list[LabelledCase]:
    lang = primary_language(path.name.split(".")[0])
    cases: list[LabelledCase] = []
    header_seen = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t", 1)
        where = f"{path.name}:{number}"
        if not header_seen:
            if tuple(field.strip().lower() for field in fields) != _HEADER:
                raise Invalid(f"{where}: the first line must be the header 'level<TAB>text'.")
            header_seen = True
            continue
        if len(fields) != 2 or not fields[1].strip():
            raise Invalid(f"{where}: expected 'level<TAB>text'.")
        try:
            level = RiskLevel.parse(fields[0])
        except Invalid:
            raise Invalid(f"{where}: unknown level {fields[0]!r}.") from None
        cases.append(LabelledCase(lang, level, fields[1], where))
    return cases


def _scores(pairs: Sequence[tuple[LabelledCase, RiskResult]]) -> Scores:
    at_risk = [result.level >= RiskLevel.LOW for case, result in pairs if case.level >= RiskLevel.LOW]
    clear = [result.level == RiskLevel.NONE for case, result in pairs if case.level == RiskLevel.NONE]
    high = [result.level == RiskLevel.HIGH for case, result in pairs if case.level == RiskLevel.HIGH]
    exact = [result.level == case.level for case, result in pairs]
    return Scores(len(pairs), _share(at_risk), _share(clear), _share(high), _share(exact))


def _share(hits: list[bool]) -> float | None:
    return sum(hits) / len(hits) if hits else None


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@dataclass(frozen=True, slots=True)
class LabelledConversation:
    lang: str
    level: RiskLevel
    messages: tuple[str, ...]
    kind: str
    signal_messages: tuple[int, ...]
    source: str


def load_conversations(path: Path) -> list[LabelledConversation]:
    """Labelled exchanges from a `.jsonl` file or every `*.jsonl` of a folder: one JSON object a line
    with `lang`, `level`, `messages` (oldest first), `kind` and `signal_messages`."""
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    found: list[LabelledConversation] = []
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{file.name}:{number}"
            try:
                data = json.loads(line)
                found.append(
                    LabelledConversation(
                        lang=primary_language(str(data["lang"])),
                        level=RiskLevel.parse(str(data["level"])),
                        messages=tuple(str(message) for message in data["messages"]),
                        kind=str(data.get("kind", "")),
                        signal_messages=tuple(int(index) for index in data.get("signal_messages", [])),
                        source=where,
                    )
                )
            except (ValueError, KeyError, TypeError, Invalid) as error:
                raise Invalid(f"{where}: not a labelled conversation ({error}).") from None
    return found


def level_recalls(pairs: Sequence[tuple[RiskLevel, RiskLevel]]) -> dict[str, tuple[int, int]]:
    """Per true level: how many were screened at that level or above, out of how many."""
    found: dict[str, tuple[int, int]] = {}
    for level in RiskLevel:
        screened = [got for want, got in pairs if want is level]
        if level is RiskLevel.NONE:
            hits = sum(got is RiskLevel.NONE for got in screened)
        else:
            hits = sum(got >= level for got in screened)
        found[level.label] = (hits, len(screened))
    return found


def rates(pairs: Sequence[tuple[RiskLevel, RiskLevel]]) -> dict[str, float | None]:
    """Sensitivity, specificity and high-risk recall of (true level, screened level) pairs."""
    at_risk = [got >= RiskLevel.LOW for want, got in pairs if want >= RiskLevel.LOW]
    clear = [got == RiskLevel.NONE for want, got in pairs if want == RiskLevel.NONE]
    high = [got == RiskLevel.HIGH for want, got in pairs if want == RiskLevel.HIGH]
    return {"sensitivity": _share(at_risk), "specificity": _share(clear), "high_risk_recall": _share(high)}


def first_sight_row(path: Path) -> str:
    """The Markdown row of a batch screened once by the engine as it stands."""
    from service.risk.conversation import screen_conversation

    path = Path(path)
    if path.suffix == ".jsonl":
        conversations = load_conversations(path)
        pairs = [(c.level, screen_conversation(list(c.messages), c.lang).level) for c in conversations]
    else:
        cases = load_labelled(path)
        pairs = [(case.level, screen_text(case.text, case.lang).level) for case in cases]
    found = rates(pairs)
    levels = ", ".join(f"{name} {hits}/{total}" for name, (hits, total) in level_recalls(pairs).items())
    return (
        f"| {path.name} | {len(pairs)} | {_rate(found['sensitivity'])} | {_rate(found['specificity'])} "
        f"| {_rate(found['high_risk_recall'])} | {levels} | {ENGINE_VERSION} |"
    )
