"""Daily check-in charts as SVG, drawn here: vector in the PDF, no plotting or image library.

One figure stacks a small panel per measure (mood, anxiety, sleep) over the same days, rather than
one chart with two vertical scales that invite misreading. Each panel shows the day's mean as a dot
and the 7-day mean as a line that breaks where there is no data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from xml.sax.saxutils import escape, quoteattr

from service.checkins.trends import DailyPoint

WIDTH = 720
LEFT = 34
RIGHT = 8
PANEL_TITLE = 16
PANEL_HEIGHT = 62
PANEL_GAP = 12
AXIS = 16
FONT = "Liberation Sans, DejaVu Sans, Arial, sans-serif"
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#d9dee4"


@dataclass(frozen=True)
class Panel:
    title: str
    points: Sequence[DailyPoint]
    color: str
    top: float
    """Highest value of the scale (10 for mood and anxiety, 12 hours or more for sleep)."""
    ticks: Sequence[float]


def panel_scale(metric: str, points: Sequence[DailyPoint]) -> tuple[float, list[float]]:
    """The top of a metric's scale and its gridlines: 0–10 scores; sleep from 0 to 12 h or the longest night."""
    if metric != "sleep_hours":
        return 10.0, [0.0, 5.0, 10.0]
    longest = max((p.value for p in points if p.value is not None), default=0.0)
    top = float(max(12, math.ceil(longest / 4) * 4))
    return top, [float(v) for v in range(0, int(top) + 1, 4)]


def checkin_chart(panels: Sequence[Panel], start: date, end: date, label_day: Callable[[date], str]) -> str:
    """The SVG document of the stacked panels, with day labels from `label_day` under the last one."""
    days = (end - start).days + 1
    height = len(panels) * (PANEL_TITLE + PANEL_HEIGHT + PANEL_GAP) - PANEL_GAP + AXIS
    plot_width = WIDTH - LEFT - RIGHT
    step = plot_width / days

    def x(day: date) -> float:
        return LEFT + ((day - start).days + 0.5) * step

    ticks = _day_ticks(start, end)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family={quoteattr(FONT)} font-size="9">'
    ]
    top = 0.0
    for panel in panels:
        parts.append(_panel(panel, top, x, ticks, step))
        top += PANEL_TITLE + PANEL_HEIGHT + PANEL_GAP
    axis_y = top - PANEL_GAP + 11
    for day in ticks:
        label = escape(label_day(day))
        parts.append(f'<text x="{x(day):.1f}" y="{axis_y:.1f}" fill="{MUTED}" text-anchor="middle">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _panel(panel: Panel, top: float, x: Callable[[date], float], ticks: Sequence[date], step: float) -> str:
    plot_top = top + PANEL_TITLE
    bottom = plot_top + PANEL_HEIGHT

    def y(value: float) -> float:
        return bottom - min(value, panel.top) / panel.top * PANEL_HEIGHT

    title = escape(panel.title)
    out = [f'<text x="0" y="{top + 10:.1f}" fill="{INK}" font-size="10" font-weight="bold">{title}</text>']
    # Gridlines and dots are one path each: a few SVG nodes per panel however long the period.
    grid = [f"M{LEFT},{y(value):.1f}H{WIDTH - RIGHT}" for value in panel.ticks]
    out.append(f'<path d="{"".join(grid)}" stroke="{GRID}" stroke-width="0.6" fill="none"/>')
    days = [f"M{x(day):.1f},{plot_top:.1f}V{bottom:.1f}" for day in ticks]
    out.append(f'<path d="{"".join(days)}" stroke="{GRID}" stroke-width="0.4" stroke-dasharray="2 2" fill="none"/>')
    for value in panel.ticks:
        out.append(f'<text x="{LEFT - 5}" y="{y(value) + 3:.1f}" fill="{MUTED}" text-anchor="end">{value:g}</text>')
    lines = []
    for segment in _segments([(x(p.day), p.mean_7) for p in panel.points]):
        if len(segment) == 1:  # one day between gaps: a short dash, so it is still seen
            px, v = segment[0]
            lines.append(f"M{px - step / 3:.1f},{y(v):.1f}H{px + step / 3:.1f}")
        else:
            lines.append("M" + "L".join(f"{px:.1f},{y(v):.1f}" for px, v in segment))
    if lines:
        out.append(
            f'<path d="{"".join(lines)}" fill="none" stroke="{panel.color}" stroke-width="1.6" '
            'stroke-linejoin="round" stroke-linecap="round"/>'
        )
    # A dot is a zero-length stroke with round caps: a circle of the stroke's width.
    dots = [f"M{x(p.day):.1f},{y(p.value):.1f}h0" for p in panel.points if p.value is not None]
    if dots:
        width = 4.4 if len(panel.points) <= 60 else 3.0 if len(panel.points) <= 150 else 2.0
        out.append(
            f'<path d="{"".join(dots)}" stroke="{panel.color}" stroke-opacity="0.55" stroke-width="{width}" '
            'stroke-linecap="round" fill="none"/>'
        )
    return "".join(out)


def _segments(values: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive days that have a value: a line never bridges a gap in the data."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for px, value in values:
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((px, value))
    if current:
        runs.append(current)
    return runs


def _day_ticks(start: date, end: date) -> list[date]:
    """Readable day marks: every other day for two weeks, weekly, fortnightly, then monthly."""
    days = (end - start).days + 1
    if days > 120:
        first = start.replace(day=1)
        marks = []
        month = first if first >= start else _next_month(first)
        while month <= end:
            marks.append(month)
            month = _next_month(month)
        return marks
    every = 2 if days <= 14 else 7 if days <= 56 else 14
    return [start + timedelta(days=offset) for offset in range(0, days, every)]


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
