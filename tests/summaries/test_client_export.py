"""The client's own export holds every table that has rows about them, and nobody else's data."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from service.alerts import lifecycle
from service.caseload import care
from service.demo.seed import seed_exercises
from service.models import AuditEvent
from service.onboarding.contacts import parse_details
from service.summaries.client_export import EXPORT_SECTIONS
from service.summaries.service import generate_and_store
from tests.factories import CLIENT_PASSWORD, SYSTEM, active_patient, bearer, create_clinic
from tests.summaries.history import FLAGGED_NOTE, seed_story

CLINICIAN_NOTE = "CLINICIAN-ONLY: spoke with the GP"


def patient_tables() -> dict[str, object]:
    """Every table with a patient_id column, found by introspection: a new table cannot be missed."""
    return {name: table for name, table in SQLModel.metadata.tables.items() if "patient_id" in table.columns}


def test_every_table_about_patients_has_a_section_of_the_export() -> None:
    assert set(patient_tables()) == set(EXPORT_SECTIONS)


def test_the_export_holds_every_row_about_the_client_and_no_one_elses_data(
    client: TestClient, session: Session
) -> None:
    setup = create_clinic(session, slug="export-clinic")
    patient, tokens = active_patient(session, setup, name="Robin Fox", email="robin@example.org")
    story = seed_story(session, patient, clinician=setup.clinician)
    headers = bearer(tokens)
    # Rows only the API writes: an idempotency key, and a C-SSRS request after PHQ-9 item 9.
    answer = client.post("/api/v1/checkins", json={"mood": 4}, headers={**headers, "Idempotency-Key": "k-1"})
    assert answer.status_code == 201
    answer = client.post(
        "/api/v1/measures/phq9/responses", json={"answers": [1, 1, 1, 1, 1, 1, 1, 1, 1]}, headers=headers
    )
    assert answer.status_code == 201 and answer.json()["follow_up"] == ["cssrs"]
    plan = {"sections": [{"code": "reasons_for_living", "items": ["My garden"]}]}
    assert client.put("/api/v1/safety-plan", json=plan, headers=headers).status_code == 200
    lifecycle.resolve(
        session, alert_id=story.alerts[1].id, staff=setup.clinician, resolution="other", note=CLINICIAN_NOTE
    )
    generate_and_store(session, patient=patient, reason="batch", actor=SYSTEM)
    seed_exercises(session, [patient])  # assignments and guided sessions, through the real services
    # What the client app writes: reminder settings, a device for Web Push, a password reset request.
    reminders = {"enabled": True, "times": ["08:30"]}
    assert client.put("/api/v1/me/reminders", json=reminders, headers=headers).status_code == 200
    device = {
        "endpoint": "https://push.example.net/wpush/robin",
        "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22},
    }
    assert client.post("/api/v1/push/subscriptions", json=device, headers=headers).status_code == 201
    assert client.post("/api/v1/auth/password-reset", json={"email": "robin@example.org"}).status_code == 202
    # The clinic's contact details for Robin, and Robin's erasure request (made with fresh tokens).
    care.save_contact(
        session,
        staff=setup.clinician,
        patient_id=patient.id,
        details=parse_details(country="US", phone="617 555 0142", emergency_phone="617 555 0199"),
    )
    assert client.delete("/api/v1/me", headers=headers).status_code == 202
    again = client.post("/api/v1/auth/token", json={"email": "robin@example.org", "password": CLIENT_PASSWORD})
    headers = bearer(again.json())

    session.expire_all()
    before = {name: _count(session, table, patient.id) for name, table in patient_tables().items()}
    data = client.get("/api/v1/me/export", headers=headers).json()

    for name, count in before.items():
        assert count > 0, f"the test writes no {name} row, so it proves nothing about it"
        assert len(data[EXPORT_SECTIONS[name]]) == count, name
    text = json.dumps(data, ensure_ascii=False)
    assert FLAGGED_NOTE in text  # the client's own words are theirs
    for someone_else in (setup.clinician.id, setup.admin.id, setup.clinician.email, CLINICIAN_NOTE):
        assert someone_else not in text
    resolved = next(a for a in data["alerts"] if a["id"] == story.alerts[0].id)
    assert resolved["status"] == "resolved" and resolved["resolution_label"] == "Called the patient"
    assert resolved["signals"][0]["categories"] == ["phq9_item9"]
    assert {entry["by"] for entry in data["access_log"]} >= {"you", "care_team", "system"}
    session.expire_all()
    assert session.exec(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id)).all()[-1] == (
        "patient.export"
    )


def _count(session: Session, table: object, patient_id: str) -> int:
    return int(
        session.execute(select(func.count()).select_from(table).where(table.c.patient_id == patient_id)).scalar_one()
    )  # type: ignore[attr-defined, arg-type]
