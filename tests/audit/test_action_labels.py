"""Every action the code writes to the audit log has its words, in English and French, for the
audit page (service/audit/actions.toml): a new action without them fails here, not in front of an
auditor."""

from __future__ import annotations

import re
from pathlib import Path

from service.audit.labels import action_label, action_labels

ROOT = Path(__file__).resolve().parents[2]
_QUOTED = re.compile(r"""["']([a-z_]+\.[a-z_]+)["']""")


def _recorded_actions() -> set[str]:
    """Quoted "area.verb" strings on the lines that name an audit action (``action=...``)."""
    found: set[str] = set()
    for folder in ("service", "client_api", "clinician_portal"):
        for source in (ROOT / folder).rglob("*.py"):
            for line in source.read_text(encoding="utf-8").splitlines():
                if "action=" in line or "_touch(" in line:
                    found |= set(_QUOTED.findall(line))
    return found


def test_every_recorded_action_has_words_in_both_languages() -> None:
    recorded = _recorded_actions()
    assert {"patient.list", "alert.resolve", "assignment.pause"} <= recorded
    missing = sorted(code for code in recorded if code not in action_labels())
    assert missing == []
    for code, labels in action_labels().items():
        assert set(labels) == {"en", "fr"} and all(labels.values()), code


def test_an_action_reads_as_words() -> None:
    assert action_label("patient.list", "en") == "Caseload viewed"
    assert action_label("patient.list", "fr") == "Liste des patients consultée"
    assert action_label("something.new", "fr") == "something.new"  # never a blank cell
