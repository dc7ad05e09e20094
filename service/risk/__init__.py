"""Risk screening: pure functions from a client's words, answers and trends to a RiskResult.

No I/O beyond reading the rule files beside this package at import, no session, no network
(checked by import-linter). Every result carries its evidence (which rule, which words) and the
engine version, so a clinician can see why and an auditor can trace it to the reviewed rules.
"""

from service.risk import crisis
from service.risk.conversation import screen_conversation
from service.risk.instruments import screen_cssrs, screen_gad7, screen_phq9, screen_reliable_deterioration
from service.risk.levels import Evidence, RiskLevel, RiskResult, combine
from service.risk.text import screen_text, screenings_remembered
from service.risk.trends import screen_missed_checkins, screen_mood_trend
from service.risk.version import ENGINE_VERSION

__all__ = [
    "ENGINE_VERSION",
    "Evidence",
    "RiskLevel",
    "RiskResult",
    "combine",
    "crisis",
    "screen_conversation",
    "screen_cssrs",
    "screen_gad7",
    "screen_missed_checkins",
    "screen_mood_trend",
    "screen_phq9",
    "screen_reliable_deterioration",
    "screen_text",
    "screenings_remembered",
]
