"""A summary of a single day, or with a single day recorded, reads as a person would write it: "the
last day", "1 day recorded" (French: "le dernier jour", "1 jour renseigné"), never "1 days", in
the text printed and in the chart's description that screen readers read (the PDF's /Alt)."""

from __future__ import annotations

import io
import re
import tomllib
from typing import Any

import pytest
from pypdf import PdfReader
from sqlmodel import Session

from service.checkins import service as checkins
from service.checkins.schemas import CheckinIn
from service.summaries.content import build_summary
from service.summaries.pdf import render_pdf
from service.summaries.texts import TEXTS_FILE
from tests.factories import active_patient, create_clinic
from tests.summaries.conftest import CLINICS
from tests.summaries.reading import pdf_text

EXPECTED = {
    "en": {"basis": "the last day", "recorded": "1 day recorded.", "wrong": r"\b1 days\b"},
    "fr": {"basis": "le dernier jour", "recorded": "1 jour renseigné.", "wrong": r"\b1 (?:jours|derniers)\b"},
}


def _alt_texts(pdf: bytes) -> list[str]:
    """Every /Alt of the PDF's structure tree: what a screen reader says for each figure."""
    found: list[str] = []

    def walk(node: Any, depth: int = 0) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if depth > 60:
            return
        if isinstance(node, dict):
            if "/Alt" in node:
                found.append(str(node["/Alt"]))
            kids = node.get("/K")
            if kids is not None:
                walk(kids, depth + 1)
        elif isinstance(node, list):
            for kid in node:
                walk(kid, depth + 1)

    walk(PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/StructTreeRoot"])
    return found


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_one_day_reads_in_the_singular_in_the_pdf(session: Session, lang: str) -> None:
    setup = create_clinic(session, name=f"Clinique {lang}", slug=f"plural-{lang}", **CLINICS[lang])
    patient, _ = active_patient(session, setup, name="Zoé Lefèvre", email=f"zoe-{lang}@example.org", locale=lang)
    checkins.submit(session, patient=patient, data=CheckinIn(mood=5, anxiety=4, sleep_hours=7))

    one_day = render_pdf(build_summary(session, patient, days=1))
    text = pdf_text(one_day, layout=False)
    assert EXPECTED[lang]["basis"] in text
    assert not re.search(EXPECTED[lang]["wrong"], text), text[:800]

    four_weeks = render_pdf(build_summary(session, patient, days=28))
    chart = [alt for alt in _alt_texts(four_weeks) if EXPECTED[lang]["recorded"] in alt]
    assert chart, _alt_texts(four_weeks)
    assert not re.search(EXPECTED[lang]["wrong"], " ".join(_alt_texts(four_weeks)))


def test_every_counted_text_has_its_singular() -> None:
    """A text that puts a number before a plural noun ("{count} days") has its `_one` form."""
    texts = tomllib.loads(TEXTS_FILE.read_text(encoding="utf-8"))
    handled_by_caller = {"exercises.every_days"}  # "Every day" is its own text (exercises.every_day)
    missing = [
        f"{section}.{key}"
        for section, entries in texts.items()
        for key, versions in entries.items()
        if re.search(r"\{(?:count|days)\} \w+s\b", versions["en"])
        and f"{key}_one" not in entries
        and f"{section}.{key}" not in handled_by_caller
    ]
    assert missing == []
