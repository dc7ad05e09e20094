"""Running a caseload: contact details (on the alert page as tel: links), duplicate warnings, a form
submitted twice, discharge and re-activation, and the admins' erasure queue."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from clinician_portal.web_security import INVITE_COOKIE
from service.caseload import care
from service.exercises.assignments import create_assignment
from service.models import Assignment, AssignmentStatus, AuditEvent, OutboxMessage, Patient, PatientStatus
from service.notify import recipient_index
from service.onboarding.contacts import parse_details
from tests.factories import CLIENT_PASSWORD, ClinicSetup, active_patient, bearer, invite_patient
from tests.portal.clinical import raise_alert
from tests.portal.conftest import Portal, csrf_of

ENROL = {"display_name": "Noor Haddad", "date_of_birth": "1990-05-17", "phone": "(617) 555-0123"}


def enrolment_form(portal: Portal) -> dict[str, str]:
    page = portal.get("/portal/patients/new").text
    key = re.search(r'name="enrolment_key" value="([^"]+)"', page)
    assert key, "the form carries a one-time key"
    return {"csrf_token": csrf_of(page), "enrolment_key": key.group(1)}


def patients_named(session: Session, name: str) -> list[Patient]:
    session.expire_all()
    return [p for p in session.exec(select(Patient)).all() if p.display_name == name]


def test_submitting_the_enrolment_form_twice_enrols_one_patient(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    form = {**enrolment_form(portal), **ENROL}
    first = portal.client.post("/portal/patients", data=form, follow_redirects=False)
    second = portal.client.post("/portal/patients", data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    [noor] = patients_named(session, "Noor Haddad")
    # The browser follows the last answer: the code is shown, once.
    shown = portal.get(second.headers["location"])
    assert shown.status_code == 200 and re.search(r'id="invite-code">([0-9A-Z-]{14})<', shown.text)
    assert noor.id in second.headers["location"]


def test_a_double_submit_whose_first_answer_was_dropped_still_shows_a_working_code(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    """A browser abandons the first answer (and its cookie) for the second: the code is still shown."""
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    form = {**enrolment_form(portal), **ENROL}
    first = portal.client.post("/portal/patients", data=form, follow_redirects=False)
    portal.client.cookies.delete(INVITE_COOKIE)  # the browser kept nothing of the first answer
    second = portal.client.post("/portal/patients", data=form, follow_redirects=False)
    assert first.headers["location"] == second.headers["location"]
    shown = portal.get(second.headers["location"])
    code = re.search(r'id="invite-code">([0-9A-Z-]{14})<', shown.text)
    assert code is not None
    assert len(patients_named(session, "Noor Haddad")) == 1


def test_two_submissions_at_the_same_moment_enrol_one_patient(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    form = {**enrolment_form(portal), **ENROL}
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(lambda _: portal.client.post("/portal/patients", data=form, follow_redirects=False), range(2))
        )
    assert [a.status_code for a in answers] == [303, 303]
    assert len(patients_named(session, "Noor Haddad")) == 1


def test_a_possible_duplicate_asks_to_confirm_instead_of_enrolling(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    first = {**enrolment_form(portal), **ENROL}
    portal.follow(portal.client.post("/portal/patients", data=first, follow_redirects=False))
    # A new form (a new key), the same person: same name and date of birth, another phone.
    again = {**enrolment_form(portal), **ENROL, "phone": ""}
    warned = portal.client.post("/portal/patients", data=again, follow_redirects=False)
    assert warned.status_code == 409 and "This patient may already be enrolled." in warned.text
    assert "same name and date of birth" in warned.text and 'name="confirm_duplicate"' in warned.text
    assert len(patients_named(session, "Noor Haddad")) == 1
    # Same phone, another name: also a possible duplicate.
    by_phone = {**enrolment_form(portal), "display_name": "N. Haddad", "phone": "+1 617-555-0123"}
    warned = portal.client.post("/portal/patients", data=by_phone, follow_redirects=False)
    assert warned.status_code == 409 and "same phone number" in warned.text
    # Confirmed: a different person with the same name and birthday is enrolled.
    confirmed = {**again, "csrf_token": csrf_of(warned.text), "confirm_duplicate": "yes"}
    assert portal.client.post("/portal/patients", data=confirmed, follow_redirects=False).status_code == 303
    assert len(patients_named(session, "Noor Haddad")) == 2


def test_contact_details_are_edited_on_the_patient_page_and_callable_from_the_alert(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    patient, _ = active_patient(session, clinic, name="Ida Iversen", email="ida@example.org")
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    details = {
        "phone": "617 555 0177",
        "contact_email": "ida.home@example.net",
        "contact_times": "After 5 pm",
        "emergency_name": "Jon Iversen",
        "emergency_relation": "brother",
        "emergency_phone": "617 555 0188",
    }
    saved = portal.submit(f"/portal/patients/{patient.id}", f"/portal/patients/{patient.id}/contact", details)
    page = portal.follow(saved)
    assert "The contact details are saved." in page.text
    assert 'href="tel:+16175550177"' in page.text and 'href="tel:+16175550188"' in page.text
    # Stored sealed, and audited by field name only.
    raw = session.execute(text("SELECT phone, emergency_name FROM patient_contact")).one()
    assert all(value.startswith(f"p1.{patient.id}.") for value in raw)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "patient.contact_update")).one()
    assert "emergency_name" in event.detail["fields"] and "Jon" not in str(event.detail)
    # A bad number is refused and changes nothing.
    bad = portal.submit(f"/portal/patients/{patient.id}", f"/portal/patients/{patient.id}/contact", {"phone": "12"})
    assert bad.status_code == 422
    # The alert page offers to call the client and the emergency contact.
    alert = raise_alert(session, patient)
    shown = portal.get(f"/portal/alerts/{alert.id}").text
    assert 'href="tel:+16175550177"' in shown and "After 5 pm" in shown
    assert 'href="tel:+16175550188"' in shown and "Jon Iversen (brother)" in shown


def test_discharge_ends_care_tells_the_client_and_refuses_new_check_ins(
    portal: Portal, clinic: ClinicSetup, session: Session, client: TestClient
) -> None:
    patient, tokens = active_patient(session, clinic, name="Kai Kim", email="kai@example.org", locale="fr")
    create_assignment(session, staff=clinic.clinician, patient_id=patient.id, exercise_code="breathing")
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    missing = portal.submit(f"/portal/patients/{patient.id}", f"/portal/patients/{patient.id}/discharge", {})
    assert missing.status_code == 422
    done = portal.follow(
        portal.submit(
            f"/portal/patients/{patient.id}", f"/portal/patients/{patient.id}/discharge", {"reason": "completed"}
        )
    )
    assert "The patient is discharged." in done.text and "Re-open care" in done.text
    session.expire_all()
    kai = session.get(Patient, patient.id)
    assert kai is not None and kai.status == PatientStatus.DISCHARGED and kai.discharge_reason == "completed"
    assignments = session.exec(select(Assignment).where(Assignment.patient_id == patient.id)).all()
    assert assignments and all(a.status == AssignmentStatus.ENDED for a in assignments)
    kai_index = recipient_index("kai@example.org")  # the address is sealed: found by its blind index
    told = session.exec(select(OutboxMessage).where(OutboxMessage.recipient_index == kai_index)).all()
    assert any("a pris fin" in m.payload["subject"] for m in told)  # in the client's language
    # The API refuses new entries, and says why.
    answer = client.post("/api/v1/checkins", json={"mood": 4, "note": "hello"}, headers=bearer(tokens))
    assert answer.status_code == 401 and "export" in answer.json()["detail"]
    login = client.post("/api/v1/auth/token", json={"email": "kai@example.org", "password": CLIENT_PASSWORD})
    assert login.status_code == 403 and "export" in login.json()["detail"]
    # The client keeps their export.
    export = client.post("/api/v1/auth/export", json={"email": "kai@example.org", "password": CLIENT_PASSWORD})
    assert export.status_code == 200 and export.json()["profile"]["status"] == "discharged"
    wrong = client.post("/api/v1/auth/export", json={"email": "kai@example.org", "password": "not-the-password"})
    assert wrong.status_code == 401
    # Re-activation opens care again.
    again = portal.follow(portal.submit(f"/portal/patients/{patient.id}", f"/portal/patients/{patient.id}/reactivate"))
    assert "care is open again." in again.text
    login = client.post("/api/v1/auth/token", json={"email": "kai@example.org", "password": CLIENT_PASSWORD})
    assert login.status_code == 200
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id)).all()
    assert "patient.discharge" in actions and "patient.reactivate" in actions


def test_an_open_alert_blocks_the_discharge(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    patient, _ = active_patient(session, clinic, name="Lou Lind", email="lou@example.org")
    raise_alert(session, patient)
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    refused = portal.submit(
        f"/portal/patients/{patient.id}", f"/portal/patients/{patient.id}/discharge", {"reason": "completed"}
    )
    assert refused.status_code == 409 and "resolve this patient" in refused.text.lower()
    session.expire_all()
    assert session.get(Patient, patient.id).status == PatientStatus.ACTIVE  # type: ignore[union-attr]


def test_the_admin_queue_carries_out_an_erasure(
    portal: Portal, clinic: ClinicSetup, session: Session, client: TestClient
) -> None:
    patient, tokens = active_patient(session, clinic, name="Mo Moss", email="mo@example.org")
    care.save_contact(
        session,
        staff=clinic.clinician,
        patient_id=patient.id,
        details=parse_details(country="US", phone="617 555 0101"),
    )
    assert client.delete("/api/v1/me", headers=bearer(tokens)).status_code == 202
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert portal.get("/portal/erasure").status_code == 403
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    queue = portal.get("/portal/erasure")
    assert queue.status_code == 200 and "Mo Moss" in queue.text and "Answer by" in queue.text
    request_id = re.search(r"/portal/erasure/([0-9a-f-]{36})/carry-out", queue.text).group(1)  # type: ignore[union-attr]
    unconfirmed = portal.submit("/portal/erasure", f"/portal/erasure/{request_id}/carry-out", {})
    assert unconfirmed.status_code == 422
    done = portal.follow(
        portal.submit("/portal/erasure", f"/portal/erasure/{request_id}/carry-out", {"confirm": "erase"})
    )
    assert "data is erased" in done.text and "Mo Moss" not in done.text
    assert portal.get(f"/portal/patients/{patient.id}").status_code == 404
    assert "Mo Moss" not in portal.get("/portal/").text


def test_an_invitation_page_without_its_code_says_it_was_shown_once(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    patient, _ = invite_patient(session, clinic, name="Pia Park")
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = portal.get(f"/portal/patients/{patient.id}/invitation")
    assert page.status_code == 200 and "cannot be displayed again" in page.text
