"""What staff download from the portal: summaries, FHIR records and the clinic CSV; who may, and the audit."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import Session, col, select

from service.models import AuditEvent, CheckIn, MeasureResponse
from service.onboarding.staff import add_staff
from service.summaries.service import generate_and_store
from tests.factories import SYSTEM
from tests.portal.conftest import Portal
from tests.summaries.conftest import Seeded
from tests.summaries.history import FLAGGED_NOTE
from tests.summaries.reading import pdf_text


@pytest.fixture
def portal(client: TestClient) -> Portal:
    return Portal(client)


@pytest.fixture
def other_clinician(session: Session, english: Seeded) -> Iterator[tuple[str, str]]:
    made = add_staff(
        session,
        clinic=english.setup.clinic,
        email="dana@summary-clinic.example.org",
        name="Dana Doctor",
        role="clinician",
        actor=SYSTEM,
    )
    yield made.staff.email, made.password


def audit_rows(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


def test_the_patients_clinician_downloads_the_summary_and_it_is_audited(
    portal: Portal, session: Session, english: Seeded
) -> None:
    patient = english.story.patient
    portal.login_ok(english.setup.clinician.email, english.setup.clinician_password)
    answer = portal.get(f"/portal/patients/{patient.id}/summary.pdf?days=28")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.content.startswith(b"%PDF-")
    assert "Zoé" not in answer.headers["content-disposition"]
    assert "Summary before the session" in pdf_text(answer.content)
    [row] = audit_rows(session, "summary.download")
    assert (row.actor_id, row.patient_id) == (english.setup.clinician.id, patient.id)
    assert row.detail["period_end"] == english.story.today.isoformat() and row.detail["basis"] == "days"


def test_another_clinician_gets_not_found_and_nothing_is_downloaded(
    portal: Portal, session: Session, english: Seeded, other_clinician: tuple[str, str]
) -> None:
    portal.login_ok(*other_clinician)
    patient_id = english.story.patient.id
    assert portal.get(f"/portal/patients/{patient_id}/summary.pdf").status_code == 404
    assert portal.get(f"/portal/patients/{patient_id}/record.fhir.json").status_code == 404
    assert audit_rows(session, "summary.download") == [] and audit_rows(session, "export.fhir") == []


def test_the_lang_parameter_picks_the_language_and_bad_values_are_refused(portal: Portal, english: Seeded) -> None:
    portal.login_ok(english.setup.clinician.email, english.setup.clinician_password)
    base = f"/portal/patients/{english.story.patient.id}/summary.pdf"
    assert "Résumé avant la séance" in pdf_text(portal.get(f"{base}?lang=fr").content)
    assert portal.get(f"{base}?lang=de").status_code == 422
    assert portal.get(f"{base}?days=0").status_code == 422
    assert portal.get(f"{base}?days=367").status_code == 422


def test_the_patient_page_links_to_the_summary_and_the_record_export(portal: Portal, english: Seeded) -> None:
    portal.login_ok(english.setup.clinician.email, english.setup.clinician_password)
    page = portal.get(f"/portal/patients/{english.story.patient.id}").text
    assert f"/portal/patients/{english.story.patient.id}/summary.pdf?days=28" in page
    assert f"/portal/patients/{english.story.patient.id}/record.fhir.json" in page


def test_a_stored_summary_opens_from_its_email_link_and_is_audited(
    portal: Portal, session: Session, english: Seeded, other_clinician: tuple[str, str]
) -> None:
    patient = english.story.patient
    stored, pdf = generate_and_store(session, patient=patient, reason="batch", actor=SYSTEM)
    portal.login_ok(english.setup.clinician.email, english.setup.clinician_password)
    link = portal.get(f"/portal/summaries/{stored.id}")
    assert link.status_code == 303 and link.headers["location"] == f"/portal/patients/{patient.id}#summaries"
    page = portal.get(f"/portal/patients/{patient.id}").text
    assert f"/portal/patients/{patient.id}/summaries/{stored.id}.pdf" in page
    answer = portal.get(f"/portal/patients/{patient.id}/summaries/{stored.id}.pdf")
    assert answer.status_code == 200 and answer.content == pdf
    [row] = audit_rows(session, "summary.download")
    assert row.entity_id == stored.id and row.detail["stored"] is True


def test_a_stored_summary_is_hidden_from_another_clinician(
    portal: Portal, session: Session, english: Seeded, other_clinician: tuple[str, str]
) -> None:
    patient = english.story.patient
    stored, _ = generate_and_store(session, patient=patient, reason="batch", actor=SYSTEM)
    portal.login_ok(*other_clinician)
    assert portal.get(f"/portal/summaries/{stored.id}").status_code == 404
    assert portal.get(f"/portal/patients/{patient.id}/summaries/{stored.id}.pdf").status_code == 404
    assert audit_rows(session, "summary.download") == []


def test_the_fhir_record_validates_carries_loinc_codes_and_is_audited(
    portal: Portal, session: Session, english: Seeded
) -> None:
    patient = english.story.patient
    portal.login_ok(english.setup.clinician.email, english.setup.clinician_password)
    answer = portal.get(f"/portal/patients/{patient.id}/record.fhir.json")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate_json(answer.content)
    assert bundle.type == "collection"
    raw = json.dumps(answer.json())
    for code in ("44249-1", "69737-5", "44261-6", "70274-6", "44250-9", "69725-0", "LA6568-5", "93832-4"):
        assert code in raw, code
    assert FLAGGED_NOTE not in raw  # notes stay in Tandem
    [row] = audit_rows(session, "export.fhir")
    assert (row.actor_id, row.patient_id) == (english.setup.clinician.id, patient.id)


def test_the_clinic_csv_is_for_admins_pseudonymous_and_audited(
    portal: Portal, session: Session, english: Seeded
) -> None:
    portal.login_ok(english.setup.clinician.email, english.setup.clinician_password)
    assert portal.get("/portal/exports/checkins.csv").status_code == 403
    assert portal.get("/portal/exports").status_code == 403
    assert audit_rows(session, "export.csv") == []

    portal.client.cookies.clear()
    portal.login_ok(english.setup.admin.email, english.setup.admin_password)
    assert "Check-ins and questionnaire scores (CSV)" in portal.get("/portal/exports").text
    answer = portal.get("/portal/exports/checkins.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    patient = english.story.patient
    checkins = session.exec(select(CheckIn).where(CheckIn.patient_id == patient.id)).all()
    responses = session.exec(select(MeasureResponse).where(MeasureResponse.patient_id == patient.id)).all()
    assert sum(r["record"] == "checkin" for r in rows) == len(checkins)
    assert sum(r["record"] == "measure_response" for r in rows) == len(responses)
    assert len({r["patient"] for r in rows}) == 1
    assert patient.id not in answer.text and "Zoé" not in answer.text and "Lefèvre" not in answer.text
    assert FLAGGED_NOTE not in answer.text and "note" not in rows[0]
    phq9 = [r for r in rows if r["instrument"] == "phq9"]
    assert [int(r["total"]) for r in phq9] == [16, 11, 7]
    [row] = audit_rows(session, "export.csv")
    assert row.actor_id == english.setup.admin.id and row.detail["checkins"] == len(checkins)


def test_the_csv_pseudonym_is_stable_across_exports(portal: Portal, english: Seeded) -> None:
    portal.login_ok(english.setup.admin.email, english.setup.admin_password)
    first = list(csv.DictReader(io.StringIO(portal.get("/portal/exports/checkins.csv").text)))
    second = list(csv.DictReader(io.StringIO(portal.get("/portal/exports/checkins.csv").text)))
    assert first[0]["patient"] == second[0]["patient"] and first[0]["patient"].startswith("P-")


def test_the_csv_refuses_a_backwards_date_range(portal: Portal, english: Seeded) -> None:
    portal.login_ok(english.setup.admin.email, english.setup.admin_password)
    answer = portal.get("/portal/exports/checkins.csv?since=2026-03-10&until=2026-03-01")
    assert answer.status_code == 422 and "must be on or before its end" in answer.text
