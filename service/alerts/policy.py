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


@dataclass(frozen=True)
class Policy:
    severity_by_level: dict[str, Severity]
    deadline_minutes: dict[Severity, int]
    reason_by_category: dict[str, str]
    reason_labels: dict[str, dict[str, str]]
    resolutions: dict[str, dict[str, str]]


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
    )


def severity_for(level_label: str) -> Severity | None:
    return policy().severity_by_level.get(level_label)


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
