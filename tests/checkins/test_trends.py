"""Daily check-in series and their 7- and 28-day rolling means, as a chart or a trend rule reads them."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from service.checkins.trends import DailyPoint, daily_series
from service.errors import Invalid

D = date.fromisoformat

# A hand-computed example. Day means: Feb 2 = 1, Feb 25 = 4, Mar 1 = (6 + 8) / 2 = 7, Mar 3 = 5, Mar 8 = 2.
# Feb 2 is the first day of the 28-day window ending Mar 1 (2025 is not a leap year) and of no later one.
POINTS = [
    (D("2025-01-31"), 10.0),  # before every window of the chart: ignored
    (D("2025-02-02"), 1.0),
    (D("2025-02-25"), 4.0),
    (D("2025-03-01"), 6.0),
    (D("2025-03-01"), 8.0),
    (D("2025-03-03"), 5.0),
    (D("2025-03-08"), 2.0),
    (D("2025-03-12"), 9.0),  # after the end of the chart: ignored
]
EXPECTED = [
    # day, value, mean of the last 7 days, mean of the last 28 days
    ("2025-03-01", 7.0, (4 + 7) / 2, (1 + 4 + 7) / 3),
    ("2025-03-02", None, (4 + 7) / 2, (4 + 7) / 2),
    ("2025-03-03", 5.0, (4 + 7 + 5) / 3, (4 + 7 + 5) / 3),
    ("2025-03-04", None, (7 + 5) / 2, (4 + 7 + 5) / 3),
    ("2025-03-05", None, (7 + 5) / 2, (4 + 7 + 5) / 3),
    ("2025-03-06", None, (7 + 5) / 2, (4 + 7 + 5) / 3),
    ("2025-03-07", None, (7 + 5) / 2, (4 + 7 + 5) / 3),
    ("2025-03-08", 2.0, (5 + 2) / 2, (4 + 7 + 5 + 2) / 4),
    ("2025-03-09", None, (5 + 2) / 2, (4 + 7 + 5 + 2) / 4),
    ("2025-03-10", None, 2.0, (4 + 7 + 5 + 2) / 4),
]


def test_rolling_means_match_the_hand_computed_example():
    series = daily_series(POINTS, D("2025-03-01"), D("2025-03-10"))
    # Exact equality: each mean is the correctly rounded mean of the day values, like the expressions above.
    assert [(p.day.isoformat(), p.value, p.mean_7, p.mean_28) for p in series] == EXPECTED


def test_every_calendar_day_appears_once_even_without_a_check_in():
    series = daily_series([], D("2024-02-27"), D("2024-03-02"))
    assert [p.day for p in series] == [
        D("2024-02-27"),
        D("2024-02-28"),
        D("2024-02-29"),
        D("2024-03-01"),
        D("2024-03-02"),
    ]
    assert all(p == DailyPoint(p.day, None, None, None) for p in series)


def test_a_window_without_any_check_in_has_no_mean():
    series = daily_series([(D("2025-05-01"), 3.0)], D("2025-05-01"), D("2025-06-01"))
    by_day = {p.day: p for p in series}
    assert by_day[D("2025-05-07")].mean_7 == 3.0
    assert by_day[D("2025-05-08")].mean_7 is None
    assert by_day[D("2025-05-28")].mean_28 == 3.0
    assert by_day[D("2025-05-29")].mean_28 is None


def test_a_day_with_many_check_ins_weighs_as_much_as_a_day_with_one():
    points = [
        (D("2025-04-01"), 0.0),
        (D("2025-04-02"), 10.0),
        (D("2025-04-02"), 10.0),
        (D("2025-04-02"), 10.0),
    ]
    series = daily_series(points, D("2025-04-02"), D("2025-04-02"))
    assert series == [DailyPoint(D("2025-04-02"), 10.0, 5.0, 5.0)]


def test_a_steady_value_shows_as_exactly_that_value():
    points = [(D("2025-01-01") + timedelta(days=i), 0.1) for i in range(400)]
    series = daily_series(points, D("2025-01-01"), D("2026-01-31"))
    assert {p.mean_7 for p in series} == {0.1}
    assert {p.mean_28 for p in series} == {0.1}


def test_a_day_of_identical_check_ins_shows_exactly_that_value():
    points = [(D("2025-01-01"), 0.1)] * 3 + [(D("2025-01-02"), 7.3)] * 7
    series = daily_series(points, D("2025-01-01"), D("2025-01-02"))
    assert [p.value for p in series] == [0.1, 7.3]


def test_rolling_means_match_a_direct_computation_over_a_year_of_irregular_check_ins():
    rng = random.Random(20250101)
    start, end = D("2024-01-01"), D("2024-12-31")
    points = [(start + timedelta(days=rng.randrange(-40, 380)), float(rng.randint(0, 10))) for _ in range(500)]
    series = daily_series(points, start, end)
    assert len(series) == 366
    day_values: dict[date, list[float]] = {}
    for day, value in points:
        day_values.setdefault(day, []).append(value)
    day_means = {day: sum(values) / len(values) for day, values in day_values.items()}

    def direct_mean(day: date, width: int) -> float | None:
        window = [day_means[d] for d in (day - timedelta(days=i) for i in range(width)) if d in day_means]
        return sum(window) / len(window) if window else None

    for point in series:
        assert point.value == day_means.get(point.day)
        assert point.mean_7 == pytest.approx(direct_mean(point.day, 7))
        assert point.mean_28 == pytest.approx(direct_mean(point.day, 28))


def test_points_may_arrive_in_any_order():
    shuffled = list(reversed(POINTS))
    assert daily_series(shuffled, D("2025-03-01"), D("2025-03-10")) == daily_series(
        POINTS, D("2025-03-01"), D("2025-03-10")
    )


def test_a_single_day_chart_is_one_point():
    assert daily_series(POINTS, D("2025-03-03"), D("2025-03-03")) == [DailyPoint(D("2025-03-03"), 5.0, 16 / 3, 16 / 3)]


def test_daily_point_is_json_ready():
    point = daily_series(POINTS, D("2025-03-02"), D("2025-03-02"))[0]
    assert point.to_dict() == {"day": "2025-03-02", "value": None, "mean_7": 5.5, "mean_28": 5.5}


def test_integers_are_accepted_as_values():
    assert daily_series([(D("2025-03-01"), 7)], D("2025-03-01"), D("2025-03-01"))[0].value == 7.0


def test_a_start_after_the_end_is_refused():
    with pytest.raises(Invalid):
        daily_series([], D("2025-03-02"), D("2025-03-01"))


def test_times_instead_of_calendar_dates_are_refused():
    with pytest.raises(Invalid):
        daily_series([(datetime(2025, 3, 1, 23, 30), 5.0)], D("2025-03-01"), D("2025-03-02"))
    with pytest.raises(Invalid):
        daily_series([], datetime(2025, 3, 1), D("2025-03-02"))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), None, "5", True])
def test_a_value_that_is_not_a_finite_number_is_refused(bad):
    with pytest.raises(Invalid):
        daily_series([(D("2025-03-01"), bad)], D("2025-03-01"), D("2025-03-02"))
