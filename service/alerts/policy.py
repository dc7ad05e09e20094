"""The alert policy file: severities, deadlines, reasons and resolutions."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from service.kit.i18n import pick_locale
from service.models import Clinic, Severity

_PATH = Path(__file__).with_name("policy.toml")
_CATEGORIES_PATH = Path(__file__).with_name("categories.toml")
OTHER_REASON = "other_risk"


_LEVELS = ("none", "low", "moderate", "high")


@dataclass(frozen=True)
class SignalFacts:
    """What a combination looks at in one signal."""

    categories: tuple[str, ...]
    level: str
    source_type: str


@dataclass(frozen=True)
class Condition:
    categories: tuple[str, ...] = ()
    min_level: str | None = None
    sources: tuple[str, ...] = ()

    def matches(self, signal: SignalFacts) -> bool:
        if self.categories and not set(self.categories) & set(signal.categories):
            return False
        if self.min_level is not None and _rank(signal.level) < _rank(self.min_level):
            return False
        return not self.sources or signal.source_type in self.sources


@dataclass(frozen=True)
class Combination:
    id: str
    severity: Severity
    within_days: int
    why: str
    conditions: tuple[Condition, ...]

    def matches(self, signals: list[SignalFacts], new: SignalFacts) -> bool:
        """Every condition is met by some signal, and the new signal meets at least one of them."""
        return any(c.matches(new) for c in self.conditions) and all(
            any(c.matches(s) for s in signals) for c in self.conditions
        )


@dataclass(frozen=True)
class Policy:
    severity_by_level: dict[str, Severity]
    deadline_minutes: dict[Severity, int]
    reason_by_category: dict[str, str]
    reason_labels: dict[str, dict[str, str]]
    resolutions: dict[str, dict[str, str]]
    combinations: tuple[Combination, ...] = ()
    hours: dict[str, list[str]] | None = None


def _rank(level: str) -> int:
    return _LEVELS.index(level) if level in _LEVELS else 0


@lru_cache
def policy() -> Policy:
    data = tomllib.loads(_PATH.read_text(encoding="utf-8"))
    reason_by_category = {
        category: reason for reason, spec in data["reasons"].items() for category in spec["categories"]
    }
    return Policy(
        severity_by_level={level: Severity(value) for level, value in data["severity"].items()},
        deadline_minutes={Severity(key): int(value) for key, value in data["deadline_minutes"].items()},
        reason_by_category=reason_by_category,
        reason_labels={reason: spec["label"] for reason, spec in data["reasons"].items()},
        resolutions=data["resolutions"],
        combinations=tuple(
            Combination(
                id=spec["id"],
                severity=Severity(spec["severity"]),
                within_days=int(spec["within_days"]),
                why=spec["why"],
                conditions=tuple(
                    Condition(
                        categories=tuple(c.get("categories", ())),
                        min_level=c.get("min_level"),
                        sources=tuple(c.get("sources", ())),
                    )
                    for c in spec["all"]
                ),
            )
            for spec in data.get("combinations", [])
        ),
        hours=data.get("hours", {}),
    )


def severity_for(level_label: str) -> Severity | None:
    return policy().severity_by_level.get(level_label)


def combination_window_days() -> int:
    return max((c.within_days for c in policy().combinations), default=0)


def combined_severity(recent: list[tuple[SignalFacts, int]], new: SignalFacts) -> tuple[Severity, str] | None:
    """The highest severity a combination calls for, with the combination's id, or None.

    ``recent`` holds the patient's earlier signals with their age in days; ``new`` is the signal
    being raised, which must take part in the combination."""
    best: tuple[Severity, str] | None = None
    for combo in policy().combinations:
        window = [facts for facts, age in recent if age <= combo.within_days] + [new]
        if combo.matches(window, new) and (best is None or combo.severity.rank > best[0].rank):
            best = (combo.severity, combo.id)
    return best


def deadline(clinic: Clinic, severity: Severity) -> timedelta:
    minutes = clinic.escalation_minutes.get(str(severity)) or policy().deadline_minutes[severity]
    return timedelta(minutes=int(minutes))


def reason_for(category: str) -> str:
    return policy().reason_by_category.get(category, OTHER_REASON)


def reason_label(reason: str, locale: str) -> str:
    labels = policy().reason_labels.get(reason) or policy().reason_labels[OTHER_REASON]
    return labels[pick_locale(locale)]


def resolution_label(code: str, locale: str) -> str:
    return policy().resolutions[code][pick_locale(locale)]


def resolution_choices(locale: str) -> list[tuple[str, str]]:
    """(code, label) of every resolution, in the policy file's order."""
    return [(code, labels[pick_locale(locale)]) for code, labels in policy().resolutions.items()]


@lru_cache
def category_labels() -> dict[str, dict[str, str]]:
    data = tomllib.loads(_CATEGORIES_PATH.read_text(encoding="utf-8"))
    return {code: dict(labels) for code, labels in data.items()}


def category_label(category: str, locale: str) -> str:
    """A screening category in words; its code when the file does not name it yet."""
    labels = category_labels().get(category)
    return labels[pick_locale(locale)] if labels else category
