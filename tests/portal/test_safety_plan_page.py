"""The clinician writes the safety plan with the client in the portal; the client sees it in the API."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.models import AuditEvent
from service.onboarding.staff import add_staff
from tests.factories import SYSTEM, ClinicSetup, active_patient, bearer
from tests.portal.conftest import Portal


def test_the_clinician_writes_the_plan_and_the_client_reads_it(
    portal: Portal, client: TestClient, session: Session, clinic: ClinicSetup
) -> None:
    zoe, tokens = active_patient(session, clinic, name="Zoé Zimmer")
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = f"/portal/patients/{zoe.id}/safety-plan"
    assert "No safety plan yet." in portal.get(page).text
    saved = portal.submit(
        page,
        page,
        {"warning_signs": "Not answering my phone\n\nStaying in bed", "people_to_ask": "Sister Lou 07700 900123"},
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("saved=1")
    shown = portal.get(f"{page}?saved=1").text
    assert "The safety plan is saved" in shown and "Staying in bed" in shown and "Chris Clinician" in shown

    plan = client.get("/api/v1/safety-plan", headers=bearer(tokens)).json()
    items = {s["code"]: s["items"] for s in plan["sections"]}
    assert items["warning_signs"] == ["Not answering my phone", "Staying in bed"]
    assert items["people_to_ask"] == ["Sister Lou 07700 900123"]
    client.put(
        "/api/v1/safety-plan",
        json={"sections": [{"code": "reasons_for_living", "items": ["My niece"]}]},
        headers=bearer(tokens),
    )
    versions = portal.get(page).text
    assert "My niece" in versions and "(in the app)" in versions and "Zoé Zimmer" in versions
    actions = [a.action for a in session.exec(select(AuditEvent).where(AuditEvent.patient_id == zoe.id)).all()]
    assert actions.count("safety_plan.update") == 2 and "safety_plan.view" in actions


def test_too_many_items_are_refused_and_another_clinicians_patient_is_hidden(
    portal: Portal, session: Session, clinic: ClinicSetup
) -> None:
    zoe, _ = active_patient(session, clinic, name="Zoé Zimmer")
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = f"/portal/patients/{zoe.id}/safety-plan"
    refused = portal.submit(page, page, {"coping": "\n".join(f"walk {n}" for n in range(21))})
    assert refused.status_code == 422 and "at most 20 items" in refused.text
    dana = add_staff(
        session, clinic=clinic.clinic, email="dana@x.example.org", name="Dana", role="clinician", actor=SYSTEM
    )
    bruno, _ = active_patient(session, clinic, name="Bruno", email="bruno@example.org", clinician=dana.staff)
    assert portal.get(f"/portal/patients/{bruno.id}/safety-plan").status_code == 404
    assert portal.submit(page, f"/portal/patients/{bruno.id}/safety-plan", {"coping": "x"}).status_code == 404
