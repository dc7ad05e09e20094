"""Every note goes through risk screening before the check-in commits, and the client is told where help is."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from service.checkins import service as checkins_service
from service.models import Alert, AuditEvent, CheckIn, Clinic

URL = "/api/v1/checkins"


def phones(block: dict) -> set[str]:
    return {"".join(ch for ch in str(r.get("phone", "")) if ch.isdigit()) for r in block["resources"]}


def give_clinic_instructions(session: Session, patient, instructions: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    clinic = session.get(Clinic, patient.clinic_id)
    assert clinic is not None
    clinic.crisis_instructions = instructions
    session.add(clinic)
    session.commit()


def test_a_note_with_suicidal_intent_returns_the_crisis_block(client: TestClient, session: Session, sign_in) -> None:
    me = sign_in()
    give_clinic_instructions(session, me.patient, {"en": "Call the clinic on 555-0100, 9am to 5pm."})
    answer = client.post(URL, json={"mood": 1, "note": "I want to kill myself tonight."}, headers=me.headers)
    assert answer.status_code == 201
    created = answer.json()
    assert created["risk"]["level"] == "high" and "intent" in created["risk"]["categories"]
    crisis = created["crisis"]
    assert crisis["message"] and "988" in phones(crisis)
    assert crisis["clinic_instructions"] == "Call the clinic on 555-0100, 9am to 5pm."
    assert "not right away" in crisis["care_team_notice"]
    assert created["support"] is None
    stored = session.get(CheckIn, created["id"])
    assert stored is not None and stored.risk_level == "high" and stored.risk_engine_version
    detected = session.exec(select(AuditEvent).where(AuditEvent.action == "risk.detect")).one()
    assert detected.entity_id == created["id"] and detected.detail["level"] == "high"
    assert "kill" not in str(detected.detail) and "tonight" not in str(detected.detail)


def test_i_want_to_kill_myself_reaches_a_person_and_shows_the_support_lines(
    client: TestClient, session: Session, sign_in
) -> None:
    # Non-specific active ideation is "low" in clinical.md (C-SSRS item 2): a routine alert for the
    # clinician, a support message that carries the support lines themselves, and the C-SSRS due now.
    me = sign_in()
    created = client.post(URL, json={"mood": 1, "note": "I want to kill myself"}, headers=me.headers).json()
    assert created["risk"]["level"] == "low"
    support = created["support"]
    assert support["resources"] and any(r["phone"] == "988" for r in support["resources"] if "phone" in r)
    alert = session.exec(select(Alert).where(Alert.patient_id == me.patient.id)).one()
    assert alert.severity == "routine" and alert.reason == "suicide_risk"


def test_thoughts_of_suicide_in_a_note_make_the_cssrs_due_now(client: TestClient, sign_in) -> None:
    me = sign_in()
    created = client.post(URL, json={"mood": 1, "note": "I want to kill myself"}, headers=me.headers).json()
    assert created["risk"]["level"] != "none" and created["follow_up"] == ["cssrs"]
    assert created["crisis"] is not None or created["support"] is not None
    measures = {m["code"]: m for m in client.get("/api/v1/measures", headers=me.headers).json()}
    assert measures["cssrs"]["due"] and measures["cssrs"]["reason"] == "note_suicidal_thoughts"


def test_a_french_client_gets_french_texts_and_the_3114(client: TestClient, session: Session, sign_in) -> None:
    me = sign_in(locale="fr", country="FR", timezone="Europe/Paris")
    give_clinic_instructions(
        session, me.patient, {"fr": "Appelez le centre au 04 72 00 00 00.", "en": "Call the centre."}
    )
    created = client.post(URL, json={"mood": 1, "note": "Je vais me tuer ce soir."}, headers=me.headers).json()
    assert created["risk"]["level"] == "high"
    crisis = created["crisis"]
    assert "3114" in phones(crisis)
    assert crisis["clinic_instructions"] == "Appelez le centre au 04 72 00 00 00."
    assert crisis["care_team_notice"].startswith("Votre équipe de soin verra ce message, mais pas tout de suite")
    resources = client.get("/api/v1/crisis-resources", headers=me.headers).json()
    assert "3114" in phones(resources) and resources["message"] == crisis["message"]
    assert resources["clinic_instructions"] == "Appelez le centre au 04 72 00 00 00."


def test_crisis_resources_follow_the_clients_country(client: TestClient, session: Session, sign_in) -> None:
    american = sign_in()
    resources = client.get("/api/v1/crisis-resources", headers=american.headers).json()
    assert "988" in phones(resources) and all(r["name"] for r in resources["resources"])
    assert "clinic_instructions" not in resources  # this clinic wrote none
    assert client.get("/api/v1/crisis-resources").status_code == 401


def test_clinic_instructions_fall_back_to_the_clinics_language(client: TestClient, session: Session, sign_in) -> None:
    me = sign_in(locale="en", country="FR", timezone="Europe/Paris")
    clinic = session.get(Clinic, me.patient.clinic_id)
    assert clinic is not None
    clinic.locale = "fr"
    session.add(clinic)
    session.commit()
    give_clinic_instructions(session, me.patient, {"fr": "Appelez le centre."})
    assert (
        client.get("/api/v1/crisis-resources", headers=me.headers).json()["clinic_instructions"] == "Appelez le centre."
    )


@pytest.mark.parametrize("note", ["This exam is killing me", "Had a lovely dinner with my brother.", ""])
def test_ordinary_notes_bring_no_crisis_block(client: TestClient, sign_in, note: str) -> None:
    me = sign_in()
    created = client.post(URL, json={"mood": 6, "note": note}, headers=me.headers).json()
    assert created["risk"]["level"] == "none"
    assert created["crisis"] is None and created["support"] is None and created["follow_up"] == []


def test_a_passive_wish_brings_a_gentle_support_message(client: TestClient, sign_in) -> None:
    me = sign_in()
    note = "Some nights I wish I could go to sleep and not wake up."
    created = client.post(URL, json={"mood": 3, "note": note}, headers=me.headers).json()
    assert created["risk"]["level"] == "low"
    assert created["crisis"] is None
    assert created["support"]["message"] and created["support"]["resources_url"] == "/api/v1/crisis-resources"


def test_if_screening_fails_the_checkin_is_not_stored(
    client: TestClient, session: Session, sign_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = sign_in()

    def broken(text: str, lang: str) -> None:
        raise RuntimeError("risk engine unavailable")

    monkeypatch.setattr(checkins_service, "screen_text", broken)
    with pytest.raises(RuntimeError):
        client.post(URL, json={"mood": 2, "note": "Nobody would notice if I was gone"}, headers=me.headers)
    session.expire_all()
    assert session.exec(select(func.count()).select_from(CheckIn)).one() == 0
