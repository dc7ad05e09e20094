"""The summary as a tagged, accessible PDF: view data -> Jinja2 HTML -> WeasyPrint.

Words come from `texts.toml`, numbers and dates from `formatting.Formatter` (the clinic's language,
country and time zone). The PDF is PDF/UA-1: tagged structure, document language and title, the
chart with a text alternative, and the footer (disclaimer, page X of Y) marked as page furniture.
"""

from __future__ import annotations

import base64
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from service.alerts.policy import reason_label, resolution_label
from service.checkins.tags import all_tags
from service.exercises.schemas import AdherenceSummary
from service.kit.i18n import pick_locale
from service.measures.change import Change
from service.measures.instruments import get_instrument
from service.safety_plan.service import section_title
from service.summaries.charts import Panel, checkin_chart, panel_scale
from service.summaries.content import AlertRow, MetricSummary, PeriodResponse, SummaryView
from service.summaries.exercises import ExerciseSummary
from service.summaries.formatting import Formatter
from service.summaries.texts import all_texts, text

TEMPLATES = Path(__file__).with_name("templates")
PDF_VARIANT = "pdf/ua-1"
CHART_SCHEME = "tandem-chart"
CHART_URL = f"{CHART_SCHEME}:checkins"
CHART_COLORS = {"mood": "#0072B2", "anxiety": "#D55E00", "sleep_hours": "#009E73"}  # Okabe-Ito: colour-blind safe
METRIC_TEXT = {"mood": "mood", "anxiety": "anxiety", "sleep_hours": "sleep"}
_fonts = threading.local()


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["css_string"] = css_string
    return env


def css_string(value: str) -> Markup:
    """`value` as a quoted CSS string, safe inside a <style> element (no quote, newline or tag escapes)."""
    escaped = "".join(
        ch if ch.isalnum() or ch in " .,:;!?()–—'’«»/+-%" or ord(ch) > 127 else f"\\{ord(ch):X} " for ch in value
    )
    return Markup(f'"{escaped}"')  # noqa: S704 - every character outside a safe set is escaped above


def page_of_css(lang: str) -> Markup:
    """The CSS `content` of "Page X of Y": the translated words as strings around the page counters."""
    pieces = re.split(r"(\{page\}|\{pages\})", all_texts()["document.page_of"][lang])
    counters = {"{page}": "counter(page)", "{pages}": "counter(pages)"}
    return Markup(" ".join(counters.get(piece) or css_string(piece) for piece in pieces if piece))  # noqa: S704


def _font_config() -> FontConfiguration:
    """One font configuration per thread: reused across renders (fonts load once), never shared."""
    config: FontConfiguration | None = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


def _stylesheet(config: FontConfiguration) -> CSS:
    sheet: CSS | None = getattr(_fonts, "sheet", None)
    if sheet is None:
        sheet = _fonts.sheet = CSS(filename=str(TEMPLATES / "summary.css"), font_config=config)
    return sheet


def render_html(view: SummaryView) -> str:
    """The summary as one self-contained HTML page (the chart inlined), e.g. to look at in a browser."""
    context = _context(view)
    svg = context["chart"].svg.encode()
    context["chart_src"] = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    return _environment().get_template("summary.html").render(**context)


def render_pdf(view: SummaryView) -> bytes:
    config = _font_config()
    context = _context(view)
    html = _environment().get_template("summary.html").render(**context)
    fetcher = _ChartFetcher(context["chart"].svg.encode())
    document = HTML(string=html, base_url=str(TEMPLATES), url_fetcher=fetcher)
    pdf = document.write_pdf(stylesheets=[_stylesheet(config)], font_config=config, pdf_variant=PDF_VARIANT)
    assert pdf is not None  # write_pdf returns the bytes when given no target
    return pdf


class _ChartFetcher(URLFetcher):
    """Serves the chart to WeasyPrint, and nothing else: a summary never reads a file or the network.

    Handing the SVG over by URL rather than as a data: URI spares the HTML parser a long attribute.
    """

    def __init__(self, svg: bytes) -> None:
        super().__init__(allowed_protocols=(CHART_SCHEME,))
        self._svg = svg

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url != CHART_URL:
            raise ValueError(f"summaries load no outside resource ({url[:40]!r})")
        return URLFetcherResponse(url, self._svg, {"Content-Type": "image/svg+xml"})


# --- what the template reads --------------------------------------------------------------------


def _context(view: SummaryView) -> dict[str, Any]:
    lang = view.lang
    fmt = Formatter(lang, view.clinic.country, view.clinic.timezone)

    def t(key: str, **values: object) -> str:
        return text(key, lang, **values)

    return {
        "v": view,
        "page_of": page_of_css(lang),
        "lang": lang,
        "t": t,
        "f": fmt,
        "period_text": _period_text(view, fmt),
        "basis_text": _basis_text(view, fmt),
        "chart": _chart(view, fmt),
        "chart_src": CHART_URL,
        "metric_rows": [_metric_row(view.metrics[m], fmt, t) for m in view.metrics],
        "measure_rows": [_measure_row(change, view, fmt, t) for change in (view.progress.phq9, view.progress.gad7)],
        "bands": [_bands(code, lang) for code in ("phq9", "gad7")],
        "recovery": _recovery_lines(view, t),
        "response_rows": [_response_row(response, fmt, t) for response in view.responses],
        "alert_rows": [_alert_row(row, fmt, t, lang) for row in view.alerts],
        "topic_rows": [_topic_row(topic, fmt, t) for topic in view.topics],
        "exercises": _exercises(view.exercises, fmt, t),
        "safety_plan": _safety_plan(view, fmt, t),
        "tag_label": _tag_label,
    }


def _period_text(view: SummaryView, fmt: Formatter) -> str:
    period = view.period
    if period.days == 1:
        return text("header.period_range_one", view.lang, start=fmt.day(period.start, "long"))
    return text(
        "header.period_range",
        view.lang,
        start=fmt.day(period.start, "long"),
        end=fmt.day(period.end, "long"),
        days=period.days,
    )


def _basis_text(view: SummaryView, fmt: Formatter) -> str:
    period = view.period
    if period.basis == "last_session":
        return text("header.basis_last_session", view.lang, date=fmt.moment(period.last_session_at, "long"))
    if period.basis == "since":
        return text("header.basis_since", view.lang, date=fmt.day(period.start, "long"))
    key = "header.basis_days" if period.basis == "days" else "header.basis_default"
    return text(key, view.lang, days=period.days)


@dataclass(frozen=True)
class Chart:
    svg: str
    alt: str


def _chart(view: SummaryView, fmt: Formatter) -> Chart:
    panels = []
    details = []
    for metric, summary in view.metrics.items():
        name = text(f"checkins.{METRIC_TEXT[metric]}", view.lang)
        scale = text(f"checkins.{METRIC_TEXT[metric]}_scale", view.lang)
        top, ticks = panel_scale(metric, summary.points)
        panels.append(Panel(f"{name} ({scale})", summary.points, CHART_COLORS[metric], top, ticks))
        if summary.count:
            details.append(
                text(
                    "checkins.chart_alt_metric",
                    view.lang,
                    metric=name,
                    mean=fmt.number(summary.mean),
                    low=fmt.number(summary.low),
                    high=fmt.number(summary.high),
                    count=summary.count,
                )
            )
        else:
            details.append(text("checkins.chart_alt_empty", view.lang, metric=name))
    svg = checkin_chart(panels, view.period.start, view.period.end, fmt.short_day)
    alt = text(
        "checkins.chart_alt",
        view.lang,
        start=fmt.day(view.period.start),
        end=fmt.day(view.period.end),
        details=" ".join(details),
    )
    return Chart(svg, alt)


def _metric_row(summary: MetricSummary, fmt: Formatter, t: Any) -> dict[str, str]:
    name = METRIC_TEXT[summary.metric]
    unit = (lambda s: t("glance.hours", value=s)) if summary.metric == "sleep_hours" else (lambda s: s)
    has_range = summary.low is not None and summary.high is not None
    return {
        "metric": t(f"checkins.{name}"),
        "mean": unit(fmt.number(summary.mean)) if summary.mean is not None else "—",
        "range": t("checkins.range_value", low=fmt.number(summary.low), high=fmt.number(summary.high))
        if has_range
        else "—",
        "first_week": fmt.number(summary.first_week),
        "last_week": fmt.number(summary.last_week),
        "days": str(summary.count),
    }


def _measure_row(change: Change, view: SummaryView, fmt: Formatter, t: Any) -> dict[str, str]:
    instrument = get_instrument(change.instrument)
    severity = view.progress.latest_severity.get(change.instrument)

    def score(observation: Any) -> str:
        return str(observation.score) if observation is not None else "—"

    def when(observation: Any) -> str:
        return fmt.day(observation.at) if observation is not None else ""

    return {
        "name": instrument.name,
        "baseline": score(change.baseline),
        "baseline_date": when(change.baseline),
        "latest": score(change.latest),
        "latest_date": when(change.latest),
        "severity": _band_label(change.instrument, severity, view.lang) if severity else t("measures.not_answered"),
        "change": fmt.signed(change.change),
        "reliable": t(f"measures.{change.status}"),
        "reliable_note": t("measures.threshold", points=change.reliable_change_threshold),
        "caseness": _caseness(change, t),
        "caseness_note": t("measures.case_threshold", points=change.caseness_threshold),
        "status": change.status,
    }


def _caseness(change: Change, t: Any) -> str:
    def word(value: bool | None) -> str:
        if value is None:
            return t("measures.case_unknown")
        return t("measures.case_above") if value else t("measures.case_below")

    if change.count < 2:
        return word(change.caseness_latest)
    return f"{word(change.caseness_baseline)} → {word(change.caseness_latest)}"


def _band_label(code: str, key: str, lang: str) -> str:
    locale = pick_locale(lang)
    return next((b.label[locale] for b in get_instrument(code).severity_bands if b.key == key), key)


def _bands(code: str, lang: str) -> dict[str, Any]:
    instrument = get_instrument(code)
    locale = pick_locale(lang)
    return {
        "name": instrument.name,
        "bands": [
            text("measures.band", lang, low=b.min, high=b.max, label=b.label[locale].lower())
            for b in instrument.severity_bands
        ],
    }


def _recovery_lines(view: SummaryView, t: Any) -> list[dict[str, str]]:
    recovery = view.progress.recovery
    lines = []
    if recovery.status == "insufficient_data":
        lines.append({"text": t("measures.recovery_insufficient_data"), "tone": "neutral"})
    elif recovery.status == "not_a_case_at_baseline":
        lines.append({"text": t("measures.recovery_not_a_case"), "tone": "neutral"})
    elif recovery.reliable_recovery:
        lines.append({"text": t("measures.recovery_reliable"), "tone": "good"})
    elif recovery.recovery:
        lines.append({"text": t("measures.recovery_only"), "tone": "good"})
    elif recovery.reliable_improvement:
        lines.append({"text": t("measures.recovery_improved"), "tone": "neutral"})
    else:
        lines.append({"text": t("measures.recovery_none"), "tone": "neutral"})
    if recovery.reliable_deterioration:
        # Reported whatever the recovery status: getting worse must never be hidden.
        lines.append({"text": t("measures.recovery_deterioration"), "tone": "warning"})
    return lines


INSTRUMENT_NAMES = {"phq9": "PHQ-9", "gad7": "GAD-7", "cssrs": "C-SSRS"}


def _response_row(response: PeriodResponse, fmt: Formatter, t: Any) -> dict[str, Any]:
    item9 = ""
    if response.item9 is not None:
        # Item 9 (thoughts of death or self-harm) is read on its own, whatever the total.
        label = get_instrument("phq9").items[8].option(response.item9).label[pick_locale(fmt.lang)]
        item9 = t("measures.item9_value", score=response.item9, label=label.lower()) if response.item9 else "0"
    return {
        "when": fmt.moment(response.completed_at),
        "name": INSTRUMENT_NAMES.get(response.instrument, response.instrument),
        "total": str(response.total) if response.total is not None else "—",
        "result": response.severity_label,
        "item9": item9,
        "flag": bool(response.item9),
    }


def _alert_row(row: AlertRow, fmt: Formatter, t: Any, lang: str) -> dict[str, str]:
    alert = row.alert
    if alert.status == "resolved":
        outcome = t(
            "alerts.resolved",
            resolution=resolution_label(alert.resolution, lang) if alert.resolution else "—",
            date=fmt.moment(alert.resolved_at),
            name=row.resolved_by or "—",
        )
    elif alert.status == "acknowledged":
        outcome = t("alerts.acknowledged", date=fmt.moment(alert.acknowledged_at), name=row.acknowledged_by or "—")
    else:
        outcome = t("alerts.open")
    return {
        "raised": fmt.moment(alert.created_at),
        "reason": reason_label(alert.reason, lang),
        "severity": t(f"alerts.{alert.severity}"),
        "severity_key": str(alert.severity),
        "outcome": outcome,
        "note": alert.resolution_note or "",
        "escalated": t("alerts.escalated", count=alert.escalation_level) if alert.escalation_level else "",
        "words": [{"text": text, "where": _message_words(where, fmt, t)} for text, where in row.words],
    }


def _message_words(where: dict[str, Any] | None, fmt: Formatter, t: Any) -> str:
    """Which message of an exchange the words come from: its number, its kind and when it was written."""
    if not where:
        return ""
    try:
        at = datetime.fromisoformat(str(where.get("at")))
    except ValueError:
        at = None
    kind = str(where.get("source_type", ""))
    source = t(f"alerts.source_{kind}") if kind in ("checkin", "coach_message") else kind
    return str(t("alerts.message", n=where.get("n"), of=where.get("of"), source=source, date=fmt.moment(at)))


def _safety_plan(view: SummaryView, fmt: Formatter, t: Any) -> dict[str, Any] | None:
    """The client's current safety plan: the sections that hold something, in the plan's order."""
    plan = view.safety_plan
    if plan.is_empty:
        return None
    sections = [
        {"title": section_title(code, view.lang), "entries": items} for code, items in plan.items.items() if items
    ]
    return {
        "sections": sections,
        "updated": t("safety_plan.updated", version=plan.version, date=fmt.moment(plan.created_at)),
    }


def _exercises(summary: ExerciseSummary, fmt: Formatter, t: Any) -> dict[str, Any] | None:
    """The exercise section, or None when nothing was ever assigned."""
    found = summary.adherence
    if found is None:
        return None

    def row(name: str, every: int | None, status: str | None, part: AdherenceSummary) -> dict[str, str]:
        frequency = (
            "" if every is None else t("exercises.every_day") if every == 1 else t("exercises.every_days", days=every)
        )
        return {
            "name": name,
            "frequency": frequency,
            "status": t(f"exercises.{status}") if status in ("active", "paused", "ended") else "",
            "due": str(part.expected),
            "completed": str(part.completed),
            "rate": fmt.percent(part.rate),
        }

    return {
        "period": t("exercises.period", start=fmt.day(found.from_date), end=fmt.day(found.to_date)),
        "glance": t("glance.exercises_value", completed=found.completed, due=found.expected),
        "rows": [row(a.title, a.every_days, a.status, a) for a in found.assignments],
        "total": row(t("exercises.all"), None, None, found) if len(found.assignments) > 1 else None,
        "entries": [
            {"date": fmt.moment(entry.at), "title": entry.title, "highlights": entry.highlights}
            for entry in summary.entries
        ],
        "more": t("exercises.more", count=summary.more) if summary.more else "",
        "stopped": [
            t("exercises.stopped", date=fmt.moment(at), title=title) for at, title in summary.stopped_for_safety
        ],
        "coach_notes": [
            {"date": fmt.moment(at), "title": title, "text": text} for at, title, text in summary.coach_notes
        ],
    }


def _topic_row(topic: Any, fmt: Formatter, t: Any) -> dict[str, str]:
    lang = fmt.lang
    tags = ", ".join(_tag_label(code, lang) for code in topic.tags)
    if topic.note:
        detail = t("topics.tags", tags=tags) if tags else ""
        return {"date": fmt.day(topic.local_date), "note": topic.note, "detail": detail}
    words = t("topics.no_note", tags=tags) if tags else t("topics.no_note_no_tags")
    return {"date": fmt.day(topic.local_date), "note": "", "detail": words}


def _tag_label(code: str, lang: str) -> str:
    return next((tag.label(lang) for tag in all_tags() if tag.code == code), code)
