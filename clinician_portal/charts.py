"""Charts drawn on the server as SVG geometry: no script, no library, nothing for the
Content-Security-Policy to block, and readable by screen readers through the templates'
title, description and data table.

This module only computes coordinates; ``templates/_charts.html`` turns them into ``<svg>``
markup with translated labels. Colours come from classes in ``static/portal.css``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from service.measures.instruments import SeverityBand

WIDTH = 540
HEIGHT = 220
# Room for the value axis on the left and the date axis below.
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 40.0, 14.0, 10.0, 30.0


class DailyValue(Protocol):
    """One day of a check-in trend (``service.checkins.schemas.TrendPoint``)."""

    @property
    def day(self) -> date: ...
    @property
    def value(self) -> float | None: ...
    @property
    def mean_7(self) -> float | None: ...


@dataclass(frozen=True)
class Tick:
    pos: float
    value: float | date


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    value: float
    at: date | datetime


@dataclass(frozen=True)
class Band:
    """A horizontal stripe of the value axis: a severity band of a questionnaire."""

    y: float
    height: float
    key: str
    label: dict[str, str]
    low: int
    high: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    dots: list[Dot]
    line: str
    """SVG path data of the main line (``M``/``L``; gaps where there is no value)."""
    mean_line: str = ""
    """SVG path data of the 7-day mean, for daily charts."""
    bands: list[Band] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.dots


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    line: str
    last: tuple[float, float] | None
    """Where the latest value sits, drawn as a dot; None when there is none."""
    points: int
    """How many days have a value."""


class _Scale:
    """A linear map from data values to pixels."""

    def __init__(self, low: float, high: float, start: float, end: float) -> None:
        self.low, self.high, self.start, self.end = low, high, start, end

    def __call__(self, value: float) -> float:
        if self.high == self.low:
            return (self.start + self.end) / 2
        return round(self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start), 1)


def _path(points: Sequence[tuple[float, float] | None]) -> str:
    """``M x y L x y ...``, starting a new segment after each gap (None)."""
    parts: list[str] = []
    pen_down = False
    for point in points:
        if point is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{point[0]:g} {point[1]:g}")
        pen_down = True
    return " ".join(parts)


def _frame(width: int, height: int) -> tuple[float, float, float, float]:
    return MARGIN_LEFT, MARGIN_TOP, width - MARGIN_RIGHT, height - MARGIN_BOTTOM


def _value_ticks(low: float, high: float, step: float, y: _Scale) -> list[Tick]:
    count = math.floor((high - low) / step + 1e-9) + 1
    return [Tick(y(low + i * step), low + i * step) for i in range(count)]


def _day_ticks(start: date, end: date, x: _Scale, *, most: int = 6) -> list[Tick]:
    """Evenly spaced dates, always including the first and the last day."""
    days = (end - start).days
    if days <= 0:
        return [Tick(x(0), start)]
    step = max(1, math.ceil(days / (most - 1)))
    offsets = list(range(0, days, step))
    if days - offsets[-1] < step / 2 and len(offsets) > 1:
        offsets.pop()  # too close to the last tick: its label would overlap
    offsets.append(days)
    return [Tick(x(offset), start + timedelta(days=offset)) for offset in offsets]


def daily_chart(
    series: Sequence[DailyValue],
    *,
    low: float = 0,
    high: float = 10,
    step: float = 2,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """Daily means as dots and their 7-day mean as a line, one column per calendar day.

    ``high`` grows to fit the data (a night of 14 hours' sleep on a 0-12 axis), in whole steps.
    """
    values = [p.value for p in series if p.value is not None]
    if values and max(values) > high:
        high = math.ceil(max(values) / step) * step
    left, top, right, bottom = _frame(width, height)
    days = max(len(series) - 1, 1)
    x = _Scale(0, days, left + 6, right - 6)
    y = _Scale(low, high, bottom, top)
    dots = [Dot(x(i), y(p.value), p.value, p.day) for i, p in enumerate(series) if p.value is not None]
    line = _path([(x(i), y(p.value)) if p.value is not None else None for i, p in enumerate(series)])
    mean = _path([(x(i), y(p.mean_7)) if p.mean_7 is not None else None for i, p in enumerate(series)])
    x_ticks = _day_ticks(series[0].day, series[-1].day, x) if series else []
    return Chart(width, height, left, top, right, bottom, _value_ticks(low, high, step, y), x_ticks, dots, line, mean)


def score_chart(
    observations: Sequence[tuple[datetime, int]],
    *,
    bands: Sequence[SeverityBand],
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """Questionnaire totals over time, placed by date, on the questionnaire's severity bands."""
    left, top, right, bottom = _frame(width, height)
    high = bands[-1].max if bands else max((total for _, total in observations), default=1)
    y = _Scale(0, high, bottom, top)
    ordered = sorted(observations, key=lambda o: o[0])
    if ordered:
        first, last = ordered[0][0].date(), ordered[-1][0].date()
    else:
        first = last = date.today()
    if (last - first).days < 14:  # a single answer, or two close together, still gets a readable axis
        first = last - timedelta(days=14)
    x = _Scale(0, (last - first).days, left + 10, right - 10)

    def x_of(at: datetime) -> float:
        return x((at - datetime.combine(first, datetime.min.time(), at.tzinfo)).total_seconds() / 86400)

    dots = [Dot(x_of(at), y(total), total, at) for at, total in ordered]
    line = _path([(dot.x, dot.y) for dot in dots])
    stripes = []
    for index, band in enumerate(bands):
        # A band runs from its lowest total up to where the next one starts (the last one to the top).
        upper = y(bands[index + 1].min) if index + 1 < len(bands) else y(high)
        stripes.append(Band(upper, round(y(band.min) - upper, 1), band.key, band.label, band.min, band.max))
    ticks = [Tick(y(value), value) for value in sorted({0, *(band.min for band in bands), high})]
    return Chart(width, height, left, top, right, bottom, ticks, _day_ticks(first, last, x), dots, line, bands=stripes)


def sparkline(
    values: Sequence[float | None], *, low: float = 0, high: float = 10, width: int = 112, height: int = 28
) -> Sparkline:
    """A small line through the days that have a value, for a table cell; the latest value is a dot."""
    x = _Scale(0, max(len(values) - 1, 1), 3, width - 3)
    y = _Scale(low, high, height - 3, 3)
    present = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
    return Sparkline(width, height, _path(present), present[-1] if present else None, len(present))
