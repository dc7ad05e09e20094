"""Daily series and rolling means of check-in values (mood, anxiety, sleep...), for charts and trend rules.

Pure: no database. Days are the patient's local calendar dates; the caller converts times first.
A rolling mean is the mean of the daily values of the days in the window that have a value, so
a day with three check-ins weighs as much as a day with one, and missing days do not count as 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from fractions import Fraction
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
    days = (end - first).days + 1
    # Prefix sums over the days since `first` give any window's sum and count in constant time.
    # They are exact fractions: float prefix sums would turn a week of 7.0 into 6.999999999999999.
    sums = [Fraction(0)] * (days + 1)
    counts = [0] * (days + 1)
    for offset in range(days):
        value = daily[offset]
        sums[offset + 1] = sums[offset] + (Fraction(value) if value is not None else 0)
        counts[offset + 1] = counts[offset] + (value is not None)
    offset_of_start = LONG_WINDOW_DAYS - 1
    return [
        DailyPoint(
            day=first + timedelta(days=offset),
            value=daily[offset],
            mean_7=_window_mean(sums, counts, offset, SHORT_WINDOW_DAYS),
            mean_28=_window_mean(sums, counts, offset, LONG_WINDOW_DAYS),
        )
        for offset in range(offset_of_start, days)
    ]


def _daily_means(points: Iterable[tuple[date, float]], first: date, end: date) -> list[float | None]:
    """The mean of each day's values, indexed by days since `first`; days outside are ignored."""
    days = (end - first).days + 1
    totals = [0.0] * days
    counts = [0] * days
    for day, value in points:
        if isinstance(day, datetime) or not isinstance(day, date):
            raise Invalid("each trend value needs the calendar date it belongs to")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise Invalid("trend values must be finite numbers")
        offset = (day - first).days
        if 0 <= offset < days:
            totals[offset] += value
            counts[offset] += 1
    return [totals[i] / counts[i] if counts[i] else None for i in range(days)]


def _window_mean(sums: list[Fraction], counts: list[int], offset: int, width: int) -> float | None:
    """Mean of the days with a value among the `width` days ending at `offset` (inclusive)."""
    low = max(0, offset + 1 - width)
    count = counts[offset + 1] - counts[low]
    if count == 0:
        return None
    return float((sums[offset + 1] - sums[low]) / count)
