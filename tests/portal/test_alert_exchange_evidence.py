"""A clinician reading an alert raised by a whole exchange sees which message each words come from
(its number, its kind, when it was written), on the alert page, in the queue and in the PDF
summary, in English and French."""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import Session, select

from service.models import Alert
from tests.factories import active_patient, bearer, create_clinic
from tests.portal.conftest import Portal
from tests.summaries.reading import pdf_text

NOTES = {
    "en": ["Left the keys with my neighbour.", "Work was fine, pasta for dinner.", "Friday it is."],
    "fr": ["J'en ai fini avec tout ça.", "Boulot correct, pâtes ce soir.", "Ma décision est faite."],
}
EXPECTED = {
    "en": {
        "category": "Signs spread over several messages",
        "first": "message 1 of 3: Check-in note",
        "last": "message 3 of 3: Check-in note",
        "pdf": r"message 1 of 3: check-?in note, .*message 3 of 3",
    },
    "fr": {
        "category": "Signes répartis sur plusieurs messages",
        "first": "message 1 sur 3\u00a0: Note du suivi quotidien",
        "last": "message 3 sur 3\u00a0: Note du suivi quotidien",
        "pdf": r"message 1 sur 3 : note du suivi quotidien, .*message 3 sur 3",
    },
}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_exchange_evidence_names_each_message_on_the_alert_page_the_queue_and_the_pdf(
    portal: Portal, session: Session, lang: str
) -> None:
    setup = create_clinic(session, locale=lang, country="US" if lang == "en" else "FR")
    patient, tokens = active_patient(session, setup, locale=lang, name="Zoé Zimmer")
    for note in NOTES[lang]:
        answer = portal.client.post("/api/v1/checkins", json={"mood": 4, "note": note}, headers=bearer(tokens))
        assert answer.status_code == 201, answer.text
    alert = session.exec(select(Alert).where(Alert.patient_id == patient.id)).one()
    expected = EXPECTED[lang]
    portal.login_ok(setup.clinician.email, setup.clinician_password)

    page = html.unescape(portal.get(f"/portal/alerts/{alert.id}").text)
    why = page[page.index('id="why-title"') : page.index('id="about-title"')]
    assert expected["category"] in why
    assert expected["first"] in why and expected["last"] in why
    assert re.search(r'<time datetime="[0-9T:.+-]+">', why)  # when each message was written
    queue = html.unescape(portal.get("/portal/alerts").text)
    assert expected["first"] in queue

    pdf = portal.get(f"/portal/patients/{patient.id}/summary.pdf?days=7")
    assert pdf.status_code == 200
    text = " ".join(pdf_text(pdf.content, layout=False).replace("\u00a0", " ").split())
    assert re.search(expected["pdf"], text), text  # pdftotext may join "check-in" broken at a line end
