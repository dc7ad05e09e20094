"""Issue 4's promise end to end: a worrying check-in reaches a person, fast, with its reason."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.alerts import lifecycle
from service.models import Alert, OutboxMessage
from service.notify import deliver_due
from tests.factories import active_patient, bearer, create_clinic


def test_goodbye_letters_raise_an_urgent_alert_an_email_and_a_crisis_block(
    client: TestClient, session: Session, mailbox
) -> None:  # type: ignore[no-untyped-def]
    setup = create_clinic(session)
    patient, tokens = active_patient(session, setup)
    answer = client.post(
        "/api/v1/checkins", json={"mood": 2, "note": "I've written my goodbye letters"}, headers=bearer(tokens)
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["risk"]["level"] == "high"
    crisis = body["crisis"]
    assert crisis and any(r.get("phone") == "988" for r in crisis["resources"])
    assert "not right away" in crisis["care_team_notice"]

    alert = session.exec(select(Alert).where(Alert.patient_id == patient.id)).one()
    assert alert.severity == "urgent" and alert.assigned_to == setup.clinician.id
    [signal] = lifecycle.signals(session, alert=alert)
    assert signal["source_type"] == "checkin" and signal["source_id"] == body["id"]
    assert any("goodbye letters" in e["text"] for e in signal["evidence"])

    deliver_due()
    [email] = mailbox.wait_for(1)
    assert email["To"] == setup.clinician.email and "Urgent" in email["Subject"]
    assert "goodbye" not in email.get_content()  # no client text leaves by email
    assert session.exec(select(OutboxMessage)).one().status == "sent"


def test_a_calm_check_in_raises_nothing(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    _, tokens = active_patient(session, setup)
    answer = client.post(
        "/api/v1/checkins", json={"mood": 7, "note": "This exam is killing me but I'm ok"}, headers=bearer(tokens)
    )
    assert answer.json()["risk"]["level"] == "none" and answer.json()["crisis"] is None
    assert session.exec(select(Alert)).all() == []
