"""Measuring the text screen against labelled messages, level by level and per language.

A labelled set is one TSV file per language (`en.tsv`, `fr.tsv`): a header `level<TAB>text`, then
one message per line. Blank lines and lines starting with `#` are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
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


# The bar cross-validation by batch must clear, per language (issue 10), and for conversations.
CV_TARGETS = {"sensitivity": 0.95, "specificity": 0.90, "high_risk_recall": 0.90}
CONVERSATION_TARGETS = {"high_risk_recall": 0.90}


@dataclass(frozen=True, slots=True)
class BatchScore:
    batch: str
    pairs: tuple[tuple[RiskLevel, RiskLevel], ...]  # (true level, screened level) per message


def cross_validate_by_batch(cases: Sequence[LabelledCase], inner_folds: int = 3) -> dict[str, list[BatchScore]]:
    """Leave one batch out, per language: train the model on the other batches (thresholds chosen by
    cross-validation inside them), screen the held-out batch with the rules and that model."""
    from service.risk.model import from_dict
    from service.risk.training import prepare_cases, screened_level, train_language

    results: dict[str, list[BatchScore]] = {}
    for lang, rows in sorted(prepare_cases(cases).items()):
        batches = sorted({row.group for row in rows})
        scores = []
        for batch in batches:
            train = [row for row in rows if row.group != batch]
            held_out = [row for row in rows if row.group == batch]
            model = from_dict(train_language(train, lang, folds=inner_folds))
            pairs = tuple((row.level, screened_level(model, row)) for row in held_out)
            scores.append(BatchScore(batch, pairs))
        results[lang] = scores
    return results


def pooled(scores: Sequence[BatchScore]) -> list[tuple[RiskLevel, RiskLevel]]:
    return [pair for score in scores for pair in score.pairs]


def shortfalls(found: dict[str, float | None], targets: dict[str, float]) -> list[str]:
    missed = []
    for name, target in targets.items():
        value = found.get(name)
        if value is None or value < target:
            shown = "n/a" if value is None else f"{value:.3f}"
            missed.append(f"{name.replace('_', ' ')} {shown} < {target:.2f}")
    return missed


def first_sight_rows(readme: Path) -> list[str]:
    """The first-sight rows recorded in the labelled set's README (Markdown table rows)."""
    if not readme.is_file():
        return []
    return [
        line
        for line in readme.read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and (".tsv |" in line or ".jsonl |" in line)
    ]


def format_rates(name: str, pairs: Sequence[tuple[RiskLevel, RiskLevel]]) -> str:
    found = rates(pairs)
    levels = ", ".join(f"{label} {hits}/{total}" for label, (hits, total) in level_recalls(pairs).items())
    return (
        f"{name:<28}{len(pairs):>6}{_rate(found['sensitivity']):>13}{_rate(found['specificity']):>13}"
        f"{_rate(found['high_risk_recall']):>13}   {levels}"
    )


def full_report(
    folder: Path, nested: bool = False, screen: Callable[[str, str], RiskResult] = screen_text
) -> tuple[str, dict[str, Any], bool]:
    """What `tandem risk evaluate` prints: per language in-sample, cross-validated by batch and first
    sight, per level; then conversations. Returns the text, a JSON-ready dict and whether the
    cross-validation and conversation targets are met.

    Cross-validated by batch: the figures `tandem risk train` computed when it left each batch out
    (kept in the model; thresholds chosen on those same out-of-batch scores). With `nested`, each
    batch is also left out of the threshold choice (the model retrained per batch: minutes)."""
    from service.risk.conversation import screen_conversation
    from service.risk.text import MODELS

    cases = load_labelled(folder)
    header = f"{'':<28}{'n':>6}{'sensitivity':>13}{'specificity':>13}{'high recall':>13}   per level (found/total)"
    lines = [f"Risk screen evaluation ({ENGINE_VERSION})", header]
    data: dict[str, Any] = {"engine_version": ENGINE_VERSION, "languages": {}, "conversations": {}}
    met = True
    validated = cross_validate_by_batch(cases) if nested else {}
    for lang in sorted({case.lang for case in cases}):
        in_lang = [case for case in cases if case.lang == lang]
        in_sample = [(case.level, screen(case.text, case.lang).level) for case in in_lang]
        lines.append(f"[{lang}]")
        lines.append(format_rates("in-sample (rules + model)", in_sample))
        entry: dict[str, Any] = {"in_sample": rates(in_sample) | {"n": len(in_sample)}}
        trained = MODELS[lang].info.get("cross_validated") if lang in MODELS else None
        if trained:
            found = trained["pooled"]
            lines.append(_figures_line("cross-validated by batch", found))
            for batch, figures in trained["by_batch"].items():
                lines.append(_figures_line(f"  held out: {batch}", figures))
            missed = shortfalls(found, CV_TARGETS)
            met = met and not missed
            lines.append(
                f"  targets {_targets(CV_TARGETS)}: {'met' if not missed else 'NOT met: ' + '; '.join(missed)}"
            )
            entry["cross_validated"] = found | {"shortfalls": missed, "by_batch": trained["by_batch"]}
        if lang in validated:
            cv_pairs = pooled(validated[lang])
            lines.append(format_rates("nested cross-validation", cv_pairs))
            for score in validated[lang]:
                lines.append(format_rates(f"  held out: {score.batch}", score.pairs))
            missed = shortfalls(rates(cv_pairs), CV_TARGETS)
            met = met and not missed
            lines.append(
                f"  targets {_targets(CV_TARGETS)}: {'met' if not missed else 'NOT met: ' + '; '.join(missed)}"
            )
            entry["nested"] = rates(cv_pairs) | {"n": len(cv_pairs), "shortfalls": missed}
        data["languages"][lang] = entry
    conversations = load_conversations(folder / "conversations") if (folder / "conversations").is_dir() else []
    for lang in sorted({c.lang for c in conversations}):
        exchanges = [c for c in conversations if c.lang == lang]
        pairs = [(c.level, screen_conversation(list(c.messages), c.lang).level) for c in exchanges]
        single = [
            (c.level, max((screen(m, c.lang).level for m in c.messages), default=RiskLevel.NONE)) for c in exchanges
        ]
        lines.append(f"[conversations {lang}]")
        lines.append(format_rates("whole exchange", pairs))
        lines.append(format_rates("highest single message", single))
        missed = shortfalls(rates(pairs), CONVERSATION_TARGETS)
        met = met and not missed
        lines.append(
            f"  targets {_targets(CONVERSATION_TARGETS)}: {'met' if not missed else 'NOT met: ' + '; '.join(missed)}"
        )
        data["conversations"][lang] = rates(pairs) | {"n": len(pairs), "shortfalls": missed}
    rows = first_sight_rows(folder / "README.md")
    if rows:
        lines.append("first sight (each batch screened once on arrival; tests/risk/labelled/README.md):")
        lines.extend(f"  {row}" for row in rows)
    data["first_sight"] = rows
    data["meets_targets"] = met
    return "\n".join(lines), data, met


def _figures_line(name: str, found: dict[str, Any]) -> str:
    return (
        f"{name:<28}{found['n']:>6}{_rate(found['sensitivity']):>13}{_rate(found['specificity']):>13}"
        f"{_rate(found['high_risk_recall']):>13}"
    )


def _targets(targets: dict[str, float]) -> str:
    return ", ".join(f"{name.replace('_', ' ')} >= {value:.2f}" for name, value in targets.items())
