"""Screening a whole exchange: a client's recent messages read together, oldest first."""

from __future__ import annotations

from collections.abc import Sequence

from service.errors import Invalid
from service.risk.levels import Evidence, RiskResult
from service.risk.text import screen_text


def screen_conversation(messages: Sequence[str], lang: str) -> RiskResult:
    """One result for the exchange; each piece of evidence names its message (0 = the oldest)."""
    if isinstance(messages, str) or not all(isinstance(message, str) for message in messages):
        raise Invalid("A conversation is a list of messages (texts).")
    evidence: list[Evidence] = []
    for index, message in enumerate(messages):
        evidence.extend(item.in_message(index) for item in screen_text(message, lang).evidence)
    return RiskResult.from_evidence(evidence)
