"""Daily series and rolling means of check-in values (mood, anxiety, sleep...), for charts and trend rules.

Pure: no database. Days are the patient's local calendar dates; the caller converts times first.
A rolling mean is the mean of the daily values of the days in the window that have a value, so
a day with three check-ins weighs as much as a day with one, and missing days do not count as 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from service.errors import Invalid

SHORT_WINDOW_DAYS = 7
LONG_WINDOW_DAYS = 28


class DailyPoint(NamedTuple):
    day: date
    value: float | None
    """Mean of that day's values; None when there was no check-in."""
    mean_7: float | None
    """Mean over the 7 calendar days ending on `day`; None when none of them has a value."""
    mean_28: float | None
    """Mean over the 28 calendar days ending on `day`; None when none of them has a value."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "value": self.value,
            "mean_7": self.mean_7,
            "mean_28": self.mean_28,
        }


def daily_series(points: Iterable[tuple[date, float]], start: date, end: date) -> list[DailyPoint]:
    """One point per calendar day from `start` to `end` inclusive, in O(points + days).

    Values before `start` still count in the early days' rolling windows, so the first week of a
    chart is not biased by where the chart happens to begin.
    """
    if isinstance(start, datetime) or isinstance(end, datetime):
        raise Invalid("a trend runs over calendar dates, not times")
    if start > end:
        raise Invalid("the start of a trend must be on or before its end")
    first = start - timedelta(days=LONG_WINDOW_DAYS - 1)
    daily = _daily_means(points, first, end)
    sums, counts, scale = _prefix_sums(daily)
    return [
        DailyPoint(
            day=first + timedelta(days=offset),
            value=daily[offset],
            mean_7=_window_mean(sums, counts, scale, offset, SHORT_WINDOW_DAYS),
            mean_28=_window_mean(sums, counts, scale, offset, LONG_WINDOW_DAYS),
        )
        for offset in range(LONG_WINDOW_DAYS - 1, len(daily))
    ]


def _daily_means(points: Iterable[tuple[date, float]], first: date, end: date) -> list[float | None]:
    """The mean of each day's values, indexed by days since `first`; days outside are ignored."""
    days = (end - first).days + 1
    values: list[list[float]] = [[] for _ in range(days)]
    for day, value in points:
        if isinstance(day, datetime) or not isinstance(day, date):
            raise Invalid("each trend value needs the calendar date it belongs to")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise Invalid("trend values must be finite numbers")
        offset = (day - first).days
        if 0 <= offset < days:
            values[offset].append(float(value))
    return [_mean(day_values) if day_values else None for day_values in values]


def _mean(values: list[float]) -> float:
    """The correctly rounded mean: three check-ins of 0.1 average 0.1, not 0.10000000000000002."""
    if len(values) == 1:
        return values[0]
    numerators, scale = _as_integers(values)
    return sum(numerators) / (len(values) * scale)


def _as_integers(values: list[float]) -> tuple[list[int], int]:
    """Integers n_i and a scale with value_i == n_i / scale exactly.

    Every float is an integer over a power of two, so the largest denominator is a multiple of all.
    Integer sums are then exact, and int / int is correctly rounded in Python however large they are.
    """
    ratios = [value.as_integer_ratio() for value in values]
    scale = max(denominator for _, denominator in ratios)
    return [numerator * (scale // denominator) for numerator, denominator in ratios], scale


def _prefix_sums(daily: list[float | None]) -> tuple[list[int], list[int], int]:
    """Prefix sums and counts of the daily values, for any window's sum and count in constant time.

    The sums are exact integers (see `_as_integers`): float prefix sums would show a steady
    week of 0.1 as anything from 0.0999999999999996 to 0.10000000000000009.
    """
    numerators, scale = _as_integers([value if value is not None else 0.0 for value in daily])
    sums = [0] * (len(daily) + 1)
    counts = [0] * (len(daily) + 1)
    for offset, numerator in enumerate(numerators):
        sums[offset + 1] = sums[offset] + numerator
        counts[offset + 1] = counts[offset] + (daily[offset] is not None)
    return sums, counts, scale


def _window_mean(sums: list[int], counts: list[int], scale: int, offset: int, width: int) -> float | None:
    """Mean of the days with a value among the `width` days ending at `offset` (inclusive)."""
    low = max(0, offset + 1 - width)
    count = counts[offset + 1] - counts[low]
    if count == 0:
        return None
    return (sums[offset + 1] - sums[low]) / (count * scale)
