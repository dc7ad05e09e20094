"""Risk levels, the evidence behind them, and the result every screen returns."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from service.errors import Invalid
from service.risk.version import ENGINE_VERSION


class RiskLevel(enum.IntEnum):
    """Ordered like the C-SSRS screener triage, so levels compare and `max()` works."""

    NONE = 0
    LOW = 1
    MODERATE = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> RiskLevel:
        """A level from its label ("none", "low", "moderate", "high"), case and spaces ignored."""
        try:
            return cls[value.strip().upper()]
        except (KeyError, AttributeError):
            raise Invalid(f"Unknown risk level {value!r}: expected none, low, moderate or high.") from None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a level was given: the rule, its category, the words (or facts) that matched, the level."""

    rule: str
    category: str
    text: str
    level: RiskLevel
    message: int | None = None  # in a conversation: which message (0 = oldest) the words come from

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "rule": self.rule, "category": self.category, "text": self.text, "level": self.level.label,
        }  # fmt: skip
        if self.message is not None:
            found["message"] = self.message
        return found

    def in_message(self, index: int) -> Evidence:
        return Evidence(self.rule, self.category, self.text, self.level, index)


@dataclass(frozen=True, slots=True)
class RiskResult:
    level: RiskLevel
    categories: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    engine_version: str

    @classmethod
    def none(cls) -> RiskResult:
        return cls(RiskLevel.NONE, (), (), ENGINE_VERSION)

    @classmethod
    def from_evidence(cls, evidence: Iterable[Evidence]) -> RiskResult:
        """The level is the highest evidence level; categories keep the order they were first seen."""
        kept = tuple(dict.fromkeys(evidence))
        if not kept:
            return cls.none()
        level = max(item.level for item in kept)
        categories = tuple(dict.fromkeys(item.category for item in kept))
        return cls(level, categories, kept, ENGINE_VERSION)

    @staticmethod
    def combine(*results: RiskResult) -> RiskResult:
        return combine(*results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level.label,
            "categories": list(self.categories),
            "evidence": [item.to_dict() for item in self.evidence],
            "engine_version": self.engine_version,
        }


def combine(*results: RiskResult) -> RiskResult:
    """One result from several screens of the same event: highest level, evidence and categories merged."""
    evidence = [item for result in results for item in result.evidence]
    merged = RiskResult.from_evidence(evidence)
    # A level can only come from evidence, but keep any level a caller built by hand.
    level = max((result.level for result in results), default=RiskLevel.NONE)
    if level > merged.level:
        return RiskResult(level, merged.categories, merged.evidence, merged.engine_version)
    return merged
