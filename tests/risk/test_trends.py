from datetime import date, timedelta

import pytest

from service.errors import Invalid
from service.risk import RiskLevel, screen_missed_checkins, screen_mood_trend

TODAY = date(2025, 3, 28)


def moods(recent, earlier, recent_days=7, earlier_days=21):
    """`recent_days` days of `recent` mood up to today, then `earlier_days` days of `earlier` before them."""
    series = {TODAY - timedelta(days=offset): recent for offset in range(recent_days)}
    series.update({TODAY - timedelta(days=7 + offset): earlier for offset in range(earlier_days)})
    return series


def test_mood_falling_three_points_below_the_month_is_low():
    result = screen_mood_trend(moods(recent=3, earlier=7), TODAY)  # 28-day mean 6, 7-day mean 3
    assert result.level is RiskLevel.LOW
    assert result.categories == ("falling_mood",)
    assert [(item.rule, item.text) for item in result.evidence] == [
        ("trend.mood_drop", "7-day mean mood 3.0, 28-day mean 6.0")
    ]


def test_a_smaller_fall_is_none():
    assert screen_mood_trend(moods(recent=4, earlier=7), TODAY).level is RiskLevel.NONE  # 6.25 vs 4


def test_too_few_recent_days_concludes_nothing():
    assert screen_mood_trend(moods(recent=1, earlier=8, recent_days=3), TODAY).level is RiskLevel.NONE


def test_too_few_days_in_the_month_concludes_nothing():
    assert screen_mood_trend(moods(recent=1, earlier=9, recent_days=4, earlier_days=5), TODAY).level is RiskLevel.NONE
    assert screen_mood_trend(moods(recent=1, earlier=9, recent_days=4, earlier_days=6), TODAY).level is RiskLevel.LOW


def test_days_after_today_and_before_the_month_are_ignored():
    series = moods(recent=3, earlier=7)
    series[TODAY + timedelta(days=1)] = 10
    series[TODAY - timedelta(days=40)] = 10
    assert screen_mood_trend(series, TODAY).level is RiskLevel.LOW


def test_mood_must_be_a_number():
    series = moods(recent=3, earlier=7)
    series[TODAY] = float("nan")
    with pytest.raises(Invalid):
        screen_mood_trend(series, TODAY)


@pytest.mark.parametrize(("days_ago", "level"), [(0, "none"), (3, "none"), (4, "low"), (30, "low")])
def test_missed_checkins_beyond_the_allowed_gap_are_low(days_ago, level):
    result = screen_missed_checkins(TODAY - timedelta(days=days_ago), TODAY, max_gap_days=3)
    assert result.level is RiskLevel.parse(level)
    if result.evidence:
        assert result.categories == ("disengagement",)
        assert result.evidence[0].rule == "trend.missed_checkins"


def test_missed_checkins_evidence_says_how_long():
    evidence = screen_missed_checkins(date(2025, 3, 18), TODAY, max_gap_days=7).evidence
    assert evidence[0].text == "no check-in for 10 days (last 2025-03-18)"


def test_no_checkin_to_measure_from_is_none():
    assert screen_missed_checkins(None, TODAY, max_gap_days=3).level is RiskLevel.NONE


@pytest.mark.parametrize("gap", [0, -2])
def test_the_allowed_gap_is_at_least_a_day(gap):
    with pytest.raises(Invalid):
        screen_missed_checkins(TODAY, TODAY, max_gap_days=gap)
