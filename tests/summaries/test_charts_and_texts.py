"""The SVG chart drawn by our code, and the summary's texts in both languages."""

from __future__ import annotations

import re
import tomllib
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from service.checkins.trends import DailyPoint
from service.summaries.charts import Panel, _day_ticks, checkin_chart, panel_scale
from service.summaries.formatting import Formatter
from service.summaries.pdf import CHART_URL, _ChartFetcher
from service.summaries.texts import TEXTS_FILE, all_texts, text

SVG = "{http://www.w3.org/2000/svg}"
START = date(2026, 3, 1)


def points(values: list[float | None]) -> list[DailyPoint]:
    return [DailyPoint(START + timedelta(days=i), v, v, v) for i, v in enumerate(values)]


def test_the_chart_is_valid_svg_and_a_line_never_bridges_a_missing_day() -> None:
    series = points([5, 6, None, None, 7, 8, 9])
    svg = checkin_chart([Panel("Mood", series, "#0072B2", 10, [0, 5, 10])], START, START + timedelta(days=6), str)
    root = ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    [line] = [p for p in root.iter(f"{SVG}path") if p.get("stroke") == "#0072B2" and p.get("stroke-width") == "1.6"]
    assert len(re.findall(r"M", line.get("d", ""))) == 2  # two runs: days 1-2 and days 5-7
    [dots] = [p for p in root.iter(f"{SVG}path") if p.get("stroke-linecap") == "round" and p.get("stroke-opacity")]
    assert dots.get("d", "").count("h0") == 5
    assert next(t.text for t in root.iter(f"{SVG}text")) == "Mood"


def test_sleep_gets_a_scale_tall_enough_for_the_longest_night() -> None:
    assert panel_scale("mood", points([9]))[0] == 10
    assert panel_scale("sleep_hours", points([7.5]))[0] == 12
    assert panel_scale("sleep_hours", points([13.5])) == (16.0, [0.0, 4.0, 8.0, 12.0, 16.0])


def test_day_marks_stay_readable_from_a_week_to_a_year() -> None:
    assert len(_day_ticks(START, START + timedelta(days=13))) == 7
    assert len(_day_ticks(START, START + timedelta(days=27))) == 4
    assert len(_day_ticks(START, START + timedelta(days=89))) == 7
    yearly = _day_ticks(START, START + timedelta(days=365))
    assert all(day.day == 1 for day in yearly) and len(yearly) == 13  # 1 March 2026 to 1 March 2027


def test_every_text_exists_in_english_and_french_with_the_same_placeholders() -> None:
    raw = tomllib.loads(TEXTS_FILE.read_text(encoding="utf-8"))
    count = sum(len(entries) for entries in raw.values())
    assert len(all_texts()) == count > 90
    different = [key for key, versions in all_texts().items() if versions["en"] != versions["fr"]]
    assert len(different) > count * 0.85  # translated, not copied


def test_numbers_and_dates_follow_the_clinics_language_and_country() -> None:
    french = Formatter("fr", "FR", "Europe/Paris")
    american = Formatter("en", "US", "America/New_York")
    assert (french.number(5.44), american.number(5.44)) == ("5,4", "5.4")
    assert french.number(-1.26) == "−1,3" and american.signed(-6) == "−6" and american.signed(3) == "+3"
    assert french.day(date(2026, 3, 1), "long") == "1er mars 2026"  # "1er" for the first of the month
    assert american.day(date(2026, 3, 1), "long") == "March 1, 2026"
    assert (
        text("header.period_range", "fr", start="1er mars", end="28 mars", days=28)
        == "du 1er mars au 28 mars (28 jours)"
    )


def test_rendering_reads_no_file_and_no_network() -> None:
    fetcher = _ChartFetcher(b"<svg/>")
    assert fetcher.fetch(CHART_URL).read() == b"<svg/>"
    for url in ("file:///etc/passwd", "http://169.254.169.254/latest/meta-data", "tandem-chart:other"):
        with pytest.raises(ValueError, match="no outside resource"):
            fetcher.fetch(url)
