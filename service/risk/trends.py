"""Trend rules, run by the scheduler on plain data: falling mood and missed check-ins.

Most people at risk never say so in a questionnaire (shared/clinical.md); a falling mood or a
client who goes quiet is a reason for the clinician to look, at a routine (low) priority.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from datetime import date
from statistics import fmean

from service.errors import Invalid
from service.risk.levels import Evidence, RiskLevel, RiskResult
from service.risk.version import RULES_DIR

_MOOD = tomllib.loads((RULES_DIR / "trends.toml").read_text(encoding="utf-8"))["mood"]
RECENT_DAYS: int = _MOOD["recent_days"]
BASELINE_DAYS: int = _MOOD["baseline_days"]
DROP_POINTS: float = float(_MOOD["drop_points"])
MIN_RECENT: int = _MOOD["min_recent_checkins"]
MIN_BASELINE: int = _MOOD["min_baseline_checkins"]
_TOLERANCE = 1e-9  # so a drop of exactly 3 points on floats still counts as 3


def screen_mood_trend(daily_mood: Mapping[date, float], today: date) -> RiskResult:
    """Low when the 7-day mean mood is 3 or more points below the 28-day mean.

    `daily_mood` maps the patient's local dates to that day's mood (0-10). Days after `today`
    are ignored; with fewer than 4 days in the last 7 or 10 in the last 28, nothing is concluded.
    """
    recent: list[float] = []
    baseline: list[float] = []
    for day, mood in daily_mood.items():
        if not isinstance(mood, int | float) or isinstance(mood, bool) or not math.isfinite(mood):
            raise Invalid(f"The mood on {day} must be a number.")
        age = (today - day).days
        if 0 <= age < BASELINE_DAYS:
            baseline.append(float(mood))
            if age < RECENT_DAYS:
                recent.append(float(mood))
    if len(recent) < MIN_RECENT or len(baseline) < MIN_BASELINE:
        return RiskResult.none()
    recent_mean, baseline_mean = fmean(recent), fmean(baseline)
    if baseline_mean - recent_mean + _TOLERANCE < DROP_POINTS:
        return RiskResult.none()
    text = f"{RECENT_DAYS}-day mean mood {recent_mean:.1f}, {BASELINE_DAYS}-day mean {baseline_mean:.1f}"
    return RiskResult.from_evidence([Evidence("trend.mood_drop", "falling_mood", text, RiskLevel.LOW)])


def screen_missed_checkins(last_checkin_on: date | None, today: date, max_gap_days: int) -> RiskResult:
    """Low when the last check-in is more than `max_gap_days` days before `today`.

    None means there is no check-in to measure from: the caller passes the enrolment date instead
    for a patient who has never checked in, so the gap counts from the day care started.
    """
    if isinstance(max_gap_days, bool) or not isinstance(max_gap_days, int) or max_gap_days < 1:
        raise Invalid("The allowed gap between check-ins must be at least one day.")
    if last_checkin_on is None:
        return RiskResult.none()
    gap = (today - last_checkin_on).days
    if gap <= max_gap_days:
        return RiskResult.none()
    text = f"no check-in for {gap} days (last {last_checkin_on.isoformat()})"
    return RiskResult.from_evidence([Evidence("trend.missed_checkins", "disengagement", text, RiskLevel.LOW)])
