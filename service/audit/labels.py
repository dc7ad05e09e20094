"""Audit actions in words, for the people who read the log (service/audit/actions.toml)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from service.kit.i18n import pick_locale

ACTIONS_FILE = Path(__file__).with_name("actions.toml")


@lru_cache
def action_labels() -> dict[str, dict[str, str]]:
    return tomllib.loads(ACTIONS_FILE.read_text(encoding="utf-8"))


def action_label(action: str, locale: str) -> str:
    """ "Caseload viewed" for ``patient.list``; an action without words yet shows its code."""
    labels = action_labels().get(action)
    return labels[pick_locale(locale)] if labels else action
