"""Evidence first: an alert leads with the signal that set its severity, never hidden by a later,
weaker one; an overdue alert names who it was escalated to; rule ids sit in a details element."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import Session, select

from service.alerts import escalation
from service.models import CheckIn
from service.onboarding.staff import add_staff
from tests.factories import SYSTEM, ClinicSetup, active_patient
from tests.portal.clinical import GOODBYE, raise_alert
from tests.portal.conftest import Portal

BURDEN = "sometimes I feel like everyone would be better off without me"


def _queue_row(html: str, alert_id: str) -> str:
    found = re.search(rf'<tr class="alert-row[^"]*" data-alert-id="{alert_id}".*?</tr>', html, re.S)
    assert found, "the alert is not in the queue"
    return found.group(0)


def test_a_later_weaker_signal_does_not_hide_the_words_that_made_it_urgent(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    zoe, _ = active_patient(session, clinic, name="Zoé Zimmer")
    raise_alert(session, zoe, GOODBYE, mood=2)
    # The goodbye was written four days ago: outside the 72 hours read with the next note (a goodbye
    # and a wish to be dead in one exchange are high together, tests/alerts/test_exchange.py), so the
    # next signal stays the weaker one.
    for written in session.exec(select(CheckIn).where(CheckIn.patient_id == zoe.id)).all():
        written.recorded_at -= timedelta(days=4)
        session.add(written)
    session.commit()
    alert = raise_alert(session, zoe, BURDEN, mood=3)
    assert alert.severity == "urgent"
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    row = _queue_row(portal.get("/portal/alerts").text, alert.id)
    assert "goodbye letters" in row and "better off without me" not in row
    assert "1 more signal" in row
    assert "Saying goodbye" in row  # the plain-language reason
    assert re.search(r"<details class=\"rule-ids\">.*en\.goodbye\.farewell", row, re.S)

    page = portal.get(f"/portal/alerts/{alert.id}").text
    why = page[page.index('id="why-title"') : page.index('id="about-title"')]
    assert "goodbye letters" in why and "better off without me" not in why and "1 more signal" in why
    signals = page[page.index('id="signals-title"') :]
    assert signals.index("goodbye letters") < signals.index("better off without me")


def test_an_escalated_alert_reads_overdue_and_names_the_person_it_went_to(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    dana = add_staff(
        session, clinic=clinic.clinic, email="dana@x.example.org", name="Dana Doctor", role="clinician", actor=SYSTEM
    )
    dana.staff.on_call = True
    session.add(dana.staff)
    session.commit()
    zoe, _ = active_patient(session, clinic, name="Zoé Zimmer")
    alert = raise_alert(session, zoe, GOODBYE)
    escalation.escalate_due(session, now=alert.ack_deadline_at)
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    row = _queue_row(portal.get("/portal/alerts").text, alert.id)
    # Escalation moved the deadline on, but the row does not go back to "Acknowledge within".
    assert "Acknowledge within" not in row
    assert re.search(r'class="deadline overdue">Overdue by [^<]*, escalated to Dana Doctor<', row)
