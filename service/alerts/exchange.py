"""A client's recent words read together (issue 10, item 4): signals spread over several messages add
up, and an alarming word that the next message explains away does not count.

The screen itself is pure (``service.risk.screen_conversation``); the callers gather the messages
(the check-in notes of the last 72 hours, a guided session's client lines), decrypted, oldest first,
the new message last. What the exchange adds to the new message's own result is its
``conversation`` evidence, and only when that evidence names the new message: an exchange already
read when its last sign arrived is not raised again by every ordinary message after it.

Each piece of exchange evidence keeps which message it came from; ``evidence_message`` turns that
index into a reference a clinician can follow (source, id, time), never a copy of the client's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from service.risk import RiskResult, combine, screen_conversation
from service.risk.conversation import signs_in

WINDOW = timedelta(hours=72)
# How many earlier messages at most are read with a new one: enough for three days of notes.
MAX_EARLIER = 40
CATEGORY = "conversation"
# The model's ungated reading is the weakest sign ("A calm day." carries it): a message whose only
# sign it is does not open the history, so an ordinary check-in stays three statements. It still
# counts inside an exchange that a message with a rule sign opens.
_TOO_WEAK_TO_OPEN = frozenset({"learned"})


@dataclass(frozen=True)
class Said:
    """One message of an exchange: where it is kept, when it was written, and its (decrypted) words."""

    source_type: str
    source_id: str
    at: datetime
    text: str


def opens_history(text: str | None, lang: str) -> bool:
    """Whether a new message carries a warning sign that could add up with earlier ones."""
    return bool(text) and bool(signs_in(text or "", lang) - _TOO_WEAK_TO_OPEN)


def read_together(single: RiskResult, said: Sequence[Said], lang: str) -> RiskResult:
    """The new message's result (``single``), raised by what the exchange ``said`` adds up to.

    ``said`` is oldest first and ends with the new message. The result keeps the single screen's
    evidence (no message index) and adds the exchange's own evidence, each naming its message."""
    if len(said) < 2:
        return single
    exchange = screen_conversation([message.text for message in said], lang)
    last = len(said) - 1
    added = [item for item in exchange.evidence if item.category == CATEGORY]
    if not any(item.message == last for item in added):
        return single
    return combine(single, RiskResult.from_evidence(added))


def is_exchange(result: RiskResult) -> bool:
    return any(item.category == CATEGORY for item in result.evidence)


def evidence_message(said: Sequence[Said] | None, index: int | None) -> dict[str, Any] | None:
    """Which message a piece of exchange evidence comes from, as stored with the alert's signal."""
    if said is None or index is None or not 0 <= index < len(said):
        return None
    message = said[index]
    return {
        "n": index + 1,
        "of": len(said),
        "source_type": message.source_type,
        "source_id": message.source_id,
        "at": message.at.isoformat(),
    }
