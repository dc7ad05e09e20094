"""Alerts: what happens when screening finds risk (``service``), the alert lifecycle, what staff read
(``review``), escalation, notifications and the scheduled trend rules."""

from service.alerts.service import (
    client_notice,
    crisis_block,
    crisis_or_support,
    crisis_resources_for,
    level_named,
    respond_to_risk,
    support_block,
    unavailable_with_lines,
)

__all__ = [
    "client_notice",
    "crisis_block",
    "crisis_or_support",
    "crisis_resources_for",
    "level_named",
    "respond_to_risk",
    "support_block",
    "unavailable_with_lines",
]
