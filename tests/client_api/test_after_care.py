"""`POST /auth/care-ended`: what the app tells a client whose care has ended, with their email and
password (their tokens no longer open anything): the clinic, since when, where help is."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.caseload import care
from tests.factories import CLIENT_PASSWORD, active_patient, create_clinic

ENDED = "/api/v1/auth/care-ended"


def test_a_discharged_client_learns_which_clinic_ended_care_and_where_help_is(
    client: TestClient, session: Session
) -> None:
    setup = create_clinic(session, name="Centre Lyon", locale="fr", country="FR", timezone="Europe/Paris")
    setup.clinic.crisis_instructions = {"fr": "Appelez le centre au 04 72 00 00 00, du lundi au vendredi."}
    session.add(setup.clinic)
    session.commit()
    patient, _ = active_patient(session, setup, name="Kai Kim", email="kai@example.org", locale="fr", country="FR")
    care.discharge(session, staff=setup.clinician, patient_id=patient.id, reason="completed")

    answer = client.post(ENDED, json={"email": "kai@example.org", "password": CLIENT_PASSWORD})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["clinic"] == "Centre Lyon" and body["locale"] == "fr" and body["ended_at"]
    assert body["help"]["clinic_instructions"].startswith("Appelez le centre")
    phones = [line.get("phone") for line in body["help"]["resources"]]
    assert "3114" in phones and "112" in phones  # France's suicide prevention line and emergency number
    assert body["help"]["message"].startswith("Vous n")  # in French, as the account speaks


def test_only_the_account_holder_whose_care_ended_is_answered(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    active_patient(session, setup, name="Ida Iversen", email="ida@example.org")
    discharged, _ = active_patient(session, setup, name="Kai Kim", email="kai@example.org")
    care.discharge(session, staff=setup.clinician, patient_id=discharged.id, reason="completed")

    wrong = client.post(ENDED, json={"email": "kai@example.org", "password": "not-the-password"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "email or password is incorrect"
    nobody = client.post(ENDED, json={"email": "nobody@example.org", "password": CLIENT_PASSWORD})
    assert nobody.status_code == 401
    ongoing = client.post(
        ENDED, json={"email": "ida@example.org", "password": CLIENT_PASSWORD}, headers={"Accept-Language": "fr"}
    )
    assert ongoing.status_code == 409
    assert ongoing.json()["detail"] == "votre suivi n'est pas terminé\u00a0: connectez-vous pour utiliser Tandem"
    malformed = client.post(ENDED, json={"email": "kai@example.org"})
    assert malformed.status_code == 422
