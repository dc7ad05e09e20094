"""The PDF summary, read back: the numbers it prints are the database's, in English and in French."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from statistics import mean
from zoneinfo import ZoneInfo

import pytest
from babel.numbers import format_decimal
from pypdf import PdfReader
from sqlmodel import Session, col, select

from service.errors import Invalid
from service.models import Alert, CheckIn, MeasureResponse, PatientSummary
from service.models.base import utcnow
from service.summaries.content import build_summary
from service.summaries.pdf import css_string, page_of_css, render_pdf
from service.summaries.service import generate_and_store
from tests.factories import SYSTEM, active_patient
from tests.summaries.conftest import Seeded
from tests.summaries.history import FLAGGED_NOTE, PRIVATE_NOTE
from tests.summaries.reading import ink_ratio, pages, pdf_text

WORDS = {
    "en": {"of": "of", "page": "Page {} of {}", "title": "Summary before the session"},
    "fr": {"of": "sur", "page": "Page {} sur {}", "title": "Résumé avant la séance"},
}
LOCALE = {"en": "en_US", "fr": "fr_FR"}


def number(value: float, lang: str) -> str:
    return format_decimal(value, format="0.0", locale=LOCALE[lang])


def expected_figures(session: Session, seeded: Seeded, days: int = 28) -> dict[str, object]:
    """What the summary must say, computed straight from the rows."""
    patient, today = seeded.story.patient, seeded.story.today
    start = today - timedelta(days=days - 1)
    rows = session.exec(select(CheckIn).where(CheckIn.patient_id == patient.id, col(CheckIn.local_date) >= start)).all()
    by_day: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        for metric in ("mood", "anxiety", "sleep_hours"):
            by_day[metric][row.local_date].append(getattr(row, metric))
    means = {metric: mean(mean(values) for values in days_.values()) for metric, days_ in by_day.items()}
    totals = {}
    for code in ("phq9", "gad7"):
        scores = session.exec(
            select(MeasureResponse.total)
            .where(MeasureResponse.patient_id == patient.id, MeasureResponse.instrument == code)
            .order_by(col(MeasureResponse.completed_at))
        ).all()
        totals[code] = (scores[0], scores[-1], scores[-1] - scores[0])  # type: ignore[operator]
    period_start = datetime.combine(start, time.min, ZoneInfo(seeded.setup.clinic.timezone)).astimezone(UTC)
    raised = len(
        session.exec(select(Alert).where(Alert.patient_id == patient.id, col(Alert.created_at) >= period_start)).all()
    )
    return {"means": means, "days": len(by_day["mood"]), "totals": totals, "alerts": raised}


def signed(change: int) -> str:
    return f"+{change}" if change > 0 else f"−{abs(change)}" if change < 0 else "0"


def test_the_numbers_printed_are_the_numbers_in_the_database(session: Session, history: Seeded) -> None:
    lang = history.setup.clinic.locale
    pdf = render_pdf(build_summary(session, history.story.patient, days=28))
    text = pdf_text(pdf)
    figures = expected_figures(session, history)
    means = figures["means"]
    words = WORDS[lang]
    exercises = r"(?:none assigned|aucun assigné|\d+ (?:of|sur) \d+)"  # this patient has none
    glance = re.search(rf"(\d+) {words['of']} 28\s+(\S+) / 10\s+(\S+) / 10\s+(\S+) h\s+{exercises}\s+(\d+)", text)
    assert glance, text[:1500]
    assert glance.groups() == (
        str(figures["days"]),
        number(means["mood"], lang),  # type: ignore[index]
        number(means["anxiety"], lang),  # type: ignore[index]
        number(means["sleep_hours"], lang),  # type: ignore[index]
        str(figures["alerts"]),
    )
    for code, name in (("phq9", "PHQ-9"), ("gad7", "GAD-7")):
        baseline, latest, change = figures["totals"][code]  # type: ignore[index]
        row = re.search(rf"^\s*{name}\s+(\d+)\s+(\d+)\s+\S.*?\s([+−]?\d+)\s", text, re.MULTILINE)
        assert row, f"no {name} row in:\n{text}"
        assert row.groups() == (str(baseline), str(latest), signed(change))


def test_the_french_summary_speaks_french(session: Session, french: Seeded) -> None:
    text = pdf_text(render_pdf(build_summary(session, french.story.patient, days=28)))
    for label in (
        "Résumé avant la séance",
        "Humeur, moyenne",
        "Jours de suivi",
        "Amélioration fiable",
        "Alertes sur cette période",
        "Patient appelé",
        "Sujets que le patient souhaite aborder à la prochaine séance",
        "CONFIDENTIEL : INFORMATIONS DE SANTÉ",  # the running head is set in capitals
    ):
        assert label in text, label
    assert "Summary before" not in text and "Mood" not in text


def test_every_page_carries_the_disclaimer_and_its_number(session: Session, history: Seeded) -> None:
    lang = history.setup.clinic.locale
    pdf = render_pdf(build_summary(session, history.story.patient, days=90))
    found = pages(pdf, layout=False)  # reading order: the two-line footer stays in one piece
    assert len(found) >= 2
    disclaimer = {"en": "support and do not replace clinical", "fr": "aident le jugement clinique"}[lang]
    for number_, page in enumerate(found, start=1):
        assert disclaimer in " ".join(page.split()), f"page {number_} has no disclaimer"
        assert WORDS[lang]["page"].format(number_, len(found)) in page


def test_the_pdf_is_tagged_titled_and_in_the_clinics_language(session: Session, history: Seeded) -> None:
    lang = history.setup.clinic.locale
    reader = PdfReader(io.BytesIO(render_pdf(build_summary(session, history.story.patient))))
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == lang
    assert bool(catalog["/MarkInfo"]["/Marked"]) is True
    assert "/StructTreeRoot" in catalog
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"]) is True
    assert reader.metadata is not None and reader.metadata.title.startswith(WORDS[lang]["title"])
    assert b"pdfuaid:part" in catalog["/Metadata"].get_object().get_data()


def test_the_chart_has_a_text_alternative_with_the_means(session: Session, english: Seeded) -> None:
    view = build_summary(session, english.story.patient, days=28)
    from service.summaries.pdf import render_html

    html = render_html(view)
    alt = re.search(r'<img src="data:image/svg\+xml;base64,[^"]+" alt="([^"]+)"', html)
    assert alt and "Mood: mean" in alt.group(1) and number(view.metrics["mood"].mean or 0, "en") in alt.group(1)


def test_page_one_is_drawn_not_blank(session: Session, english: Seeded) -> None:
    pdf = render_pdf(build_summary(session, english.story.patient, days=28))
    assert ink_ratio(pdf, page=1) > 0.03


def test_flagged_topics_are_listed_and_other_notes_are_not(session: Session, history: Seeded) -> None:
    text = " ".join(pdf_text(render_pdf(build_summary(session, history.story.patient, days=28))).split())
    assert FLAGGED_NOTE.replace("'", "’") in text.replace("'", "’")
    no_note = {"en": "No note; tagged: Work", "fr": "Pas de note ; thèmes : Travail"}
    assert no_note[history.setup.clinic.locale] in text
    assert PRIVATE_NOTE not in text


def test_alerts_show_their_outcome(session: Session, english: Seeded) -> None:
    text = " ".join(pdf_text(render_pdf(build_summary(session, english.story.patient, days=28))).split())
    assert "Suicide risk Priority Called the patient" in text
    assert "Chris Clinician" in text
    assert "Falling mood Routine Open: not yet acknowledged" in text
    assert "1 still open" in text


def test_without_a_past_session_the_period_is_the_last_28_days(session: Session, english: Seeded) -> None:
    view = build_summary(session, english.story.patient)
    assert view.period.basis == "default" and view.period.days == 28


def test_the_default_period_starts_at_the_last_session(session: Session, english: Seeded) -> None:
    patient = english.story.patient
    last_session = utcnow() - timedelta(days=12)
    with session.begin_nested():
        patient.next_appointment_at = last_session
    generate_and_store(session, patient=patient, reason="appointment", actor=SYSTEM, appointment_at=last_session)
    patient.next_appointment_at = utcnow() + timedelta(days=2)
    session.commit()
    view = build_summary(session, patient)
    local = last_session.astimezone(ZoneInfo(english.setup.clinic.timezone))
    assert (view.period.basis, view.period.start) == ("last_session", local.date())
    text = " ".join(pdf_text(render_pdf(view)).split())
    assert "since the last session on" in text and str(local.day) in text


def test_days_beyond_a_year_are_refused(session: Session, english: Seeded) -> None:
    with pytest.raises(Invalid, match="days must be from 1 to 366"):
        build_summary(session, english.story.patient, days=400)


def test_a_patient_without_data_still_gets_a_readable_summary(session: Session, english: Seeded) -> None:
    newcomer, _ = active_patient(session, english.setup, name="Nina Nouvelle", email="nina@example.org")
    text = " ".join(pdf_text(render_pdf(build_summary(session, newcomer)), layout=False).split())
    assert "No check-in in this period." in text
    assert "Not assessed yet" in text and "Not answered yet" in text
    assert "No alert in this period." in text
    assert session.exec(select(PatientSummary)).all() == []


def test_css_strings_cannot_break_out_of_the_stylesheet() -> None:
    assert str(css_string('a"b</style>\n')) == '"a\\22 b\\3C /style\\3E \\A "'
    assert str(page_of_css("fr")) == '"Page " counter(page) " sur " counter(pages)'
