"""The chart geometry: values land where the axes say, gaps stay gaps, bands cover their totals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from clinician_portal import charts
from service.checkins.schemas import TrendPoint
from service.measures.instruments import get_instrument


def _days(values: list[float | None]) -> list[TrendPoint]:
    start = date(2026, 3, 1)
    return [TrendPoint(day=start + timedelta(days=i), value=v, mean_7=v, mean_28=None) for i, v in enumerate(values)]


def test_a_daily_value_is_placed_on_its_day_and_its_height() -> None:
    chart = charts.daily_chart(_days([0, None, 10]), high=10, step=2)
    first, last = chart.dots
    assert (first.value, last.value) == (0, 10)
    assert first.y == chart.bottom and last.y == chart.top  # 0 on the axis, 10 at the top
    assert first.x < last.x and first.at == date(2026, 3, 1) and last.at == date(2026, 3, 3)
    assert [tick.value for tick in chart.y_ticks] == [0, 2, 4, 6, 8, 10]


def test_a_day_without_a_check_in_breaks_the_line() -> None:
    chart = charts.daily_chart(_days([5, None, 6, 7]), high=10)
    assert chart.line.count("M") == 2 and chart.line.count("L") == 1
    assert len(chart.dots) == 3


def test_the_sleep_axis_grows_to_fit_a_long_night() -> None:
    chart = charts.daily_chart(_days([7, 14.5]), high=12, step=2)
    assert chart.y_ticks[-1].value == 16 and max(d.y for d in chart.dots) <= chart.bottom


def test_the_date_axis_names_the_first_and_the_last_day() -> None:
    chart = charts.daily_chart(_days([5.0] * 90), high=10)
    assert chart.x_ticks[0].value == date(2026, 3, 1)
    assert chart.x_ticks[-1].value == date(2026, 3, 1) + timedelta(days=89)
    assert len(chart.x_ticks) <= 7


def test_severity_bands_cover_the_whole_score_range_without_gaps() -> None:
    phq9 = get_instrument("phq9")
    at = datetime(2026, 3, 1, 18, tzinfo=UTC)
    chart = charts.score_chart([(at, 18), (at + timedelta(days=28), 6)], bands=phq9.severity_bands)
    assert [band.key for band in chart.bands] == ["minimal", "mild", "moderate", "moderately_severe", "severe"]
    assert chart.bands[0].y + chart.bands[0].height == chart.bottom  # minimal starts on the axis
    assert chart.bands[-1].y == chart.top  # severe reaches the top (27)
    for lower, upper in zip(chart.bands, chart.bands[1:], strict=False):
        assert abs(upper.y + upper.height - lower.y) < 0.11  # each band starts where the one below ends
    severe, mild = chart.dots
    band = next(b for b in chart.bands if b.key == "moderately_severe")
    assert band.y <= severe.y <= band.y + band.height  # 18 is drawn inside its band
    assert mild.x > severe.x


def test_a_single_answer_still_gets_a_readable_time_axis() -> None:
    at = datetime(2026, 3, 1, 18, tzinfo=UTC)
    chart = charts.score_chart([(at, 9)], bands=get_instrument("gad7").severity_bands)
    assert len(chart.dots) == 1 and chart.x_ticks[0].value == date(2026, 2, 15)
    assert chart.line.startswith("M") and "L" not in chart.line


def test_a_sparkline_joins_the_days_that_have_a_value_and_marks_the_latest() -> None:
    line = charts.sparkline([None, 4, None, None, 6, None])
    assert line.points == 2 and line.line.count("M") == 1 and line.line.count("L") == 1
    assert line.last is not None and line.last[1] < line.height / 2  # 6 is above the middle line
    assert charts.sparkline([None, None]).last is None
