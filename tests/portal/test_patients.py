"""The caseload and patient pages: who sees whom, enrolment, invitations, appointments, audit rows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.models import AuditEvent, Invitation, Patient, PatientStatus
from service.models.base import utcnow
from service.onboarding import invitations
from service.onboarding.consent import current_version
from service.onboarding.staff import add_staff
from tests.factories import SYSTEM, ClinicSetup, active_patient, create_clinic, invite_patient
from tests.portal.conftest import Portal, actions, reload


@pytest.fixture
def two_caseloads(session: Session, clinic: ClinicSetup) -> dict[str, object]:
    """Chris's patients, Dana's patients, and a patient of another clinic."""
    dana = add_staff(
        session,
        clinic=clinic.clinic,
        email="dana@test-clinic.example.org",
        name="Dana Doctor",
        role="clinician",
        actor=SYSTEM,
    )
    mine, _ = invite_patient(session, clinic, name="Zoé Zimmer")
    second, _ = active_patient(session, clinic, name="Amélie Adam", email="amelie@example.org")
    theirs, _ = invite_patient(session, clinic, name="Bruno Brun", clinician=dana.staff)
    elsewhere = create_clinic(session, name="Other Clinic")
    foreign, _ = invite_patient(session, elsewhere, name="Olga Other")
    return {
        "dana": dana,
        "mine": mine,
        "second": second,
        "theirs": theirs,
        "foreign": foreign,
        "elsewhere": elsewhere,
    }


def _names_in_order(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/portal/patients/[^"]+">([^<]+)</a>', html)


def test_a_clinician_sees_only_their_own_caseload(
    portal: Portal, clinic: ClinicSetup, two_caseloads: dict[str, object]
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = portal.get("/portal/")
    assert _names_in_order(page.text) == ["Amélie Adam", "Zoé Zimmer"]
    assert "Bruno Brun" not in page.text and "Olga Other" not in page.text
    assert "2 patients" in page.text


def test_an_admin_sees_the_whole_clinic_and_each_clinician(
    portal: Portal, clinic: ClinicSetup, two_caseloads: dict[str, object]
) -> None:
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    page = portal.get("/portal/")
    assert _names_in_order(page.text) == ["Amélie Adam", "Bruno Brun", "Zoé Zimmer"]
    assert "Olga Other" not in page.text
    assert "Dana Doctor" in page.text and "All patients of the clinic" in page.text


def test_the_caseload_filters_by_name_without_accents_and_by_status(
    portal: Portal, clinic: ClinicSetup, two_caseloads: dict[str, object]
) -> None:
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    assert _names_in_order(portal.get("/portal/?name=zoe").text) == ["Zoé Zimmer"]
    assert _names_in_order(portal.get("/portal/?name=BR").text) == ["Bruno Brun"]
    assert _names_in_order(portal.get("/portal/?status=active").text) == ["Amélie Adam"]
    assert "No patient matches these filters." in portal.get("/portal/?name=nobody").text
    assert portal.get("/portal/?status=bogus&sort=bogus").status_code == 200


def test_the_caseload_sorts_by_status_and_next_appointment(
    portal: Portal, clinic: ClinicSetup, two_caseloads: dict[str, object], session: Session
) -> None:
    zoe = reload(session, two_caseloads["mine"])
    zoe.next_appointment_at = utcnow() + timedelta(days=2)
    session.add(zoe)
    session.commit()
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert _names_in_order(portal.get("/portal/?sort=status").text) == ["Zoé Zimmer", "Amélie Adam"]
    assert _names_in_order(portal.get("/portal/?sort=appointment").text) == ["Zoé Zimmer", "Amélie Adam"]


def test_the_caseload_shows_status_and_invitation_state(
    portal: Portal, clinic: ClinicSetup, two_caseloads: dict[str, object]
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = portal.get("/portal/").text
    assert "Pending until" in page and "Accepted" in page
    assert 'class="badge status-invited">Invited' in page and 'class="badge status-active">Active' in page


def test_opening_a_patient_page_is_audited(
    portal: Portal, clinic: ClinicSetup, two_caseloads: dict[str, object], session: Session
) -> None:
    patient = two_caseloads["mine"]
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = portal.get(f"/portal/patients/{patient.id}")  # type: ignore[attr-defined]
    assert page.status_code == 200
    assert "Zoé Zimmer" in page.text and "Chris Clinician" in page.text
    assert page.headers["cache-control"] == "no-store"
    view = session.exec(
        select(AuditEvent).where(AuditEvent.action == "patient.view", AuditEvent.patient_id == patient.id)  # type: ignore[attr-defined]
    ).one()
    assert view.actor_id == clinic.clinician.id and view.clinic_id == clinic.clinic.id


@pytest.mark.parametrize("whose", ["theirs", "foreign"])
def test_a_clinician_cannot_open_another_caseload_or_clinic(
    portal: Portal, clinic: ClinicSetup, two_caseloads: dict[str, object], session: Session, whose: str
) -> None:
    patient = two_caseloads[whose]
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    for path in (f"/portal/patients/{patient.id}",):  # type: ignore[attr-defined]
        answer = portal.get(path)
        assert answer.status_code == 404 and "Page not found" in answer.text
        assert patient.display_name not in answer.text  # type: ignore[attr-defined]
    for action in ("appointment", "invitation/resend", "invitation/revoke"):
        answer = portal.submit("/portal/", f"/portal/patients/{patient.id}/{action}", {"next_appointment": ""})  # type: ignore[attr-defined]
        assert answer.status_code == 404
    assert "patient.view" not in actions(session, patient_id=patient.id)  # type: ignore[attr-defined]


def test_an_admin_cannot_open_another_clinics_patient(
    portal: Portal, clinic: ClinicSetup, two_caseloads: dict[str, object]
) -> None:
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    assert portal.get(f"/portal/patients/{two_caseloads['theirs'].id}").status_code == 200  # type: ignore[attr-defined]
    assert portal.get(f"/portal/patients/{two_caseloads['foreign'].id}").status_code == 404  # type: ignore[attr-defined]


def test_a_clinician_enrols_a_patient_and_sees_the_code_once_with_a_letter(
    portal: Portal, clinic: ClinicSetup, session: Session, client
) -> None:  # type: ignore[no-untyped-def]
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    form = portal.get("/portal/patients/new")
    assert form.status_code == 200 and 'name="clinician_id"' not in form.text.split("<select")[-1]
    posted = portal.submit(
        "/portal/patients/new",
        "/portal/patients",
        {"display_name": "Inès Ibáñez", "locale": "fr", "timezone": "Europe/Paris", "country": "FR"},
    )
    answer = portal.follow(posted)  # post/redirect/get: a reload never enrols again
    assert answer.status_code == 200
    code = re.search(r'id="invite-code">([0-9A-Z-]{14})<', answer.text).group(1)  # type: ignore[union-attr]
    assert "This code is shown only once." in answer.text
    assert '<article class="letter" lang="fr">' in answer.text and "Votre invitation à Tandem" in answer.text
    assert "Chris Clinician" in answer.text and code in answer.text.split('<article class="letter"')[1]
    patient = session.exec(select(Patient).where(Patient.clinic_id == clinic.clinic.id)).one()
    assert patient.display_name == "Inès Ibáñez" and patient.clinician_id == clinic.clinician.id
    assert (patient.locale, patient.timezone, patient.country) == ("fr", "Europe/Paris", "FR")
    # The code works for the client app, and is not stored anywhere in clear.
    consent = client.get("/api/v1/consent", params={"invite_code": code})
    assert consent.status_code == 200 and consent.json()["version"] == current_version()
    stored = session.exec(select(Invitation).where(Invitation.patient_id == patient.id)).one()
    assert code not in stored.code_hash
    page = portal.get(f"/portal/patients/{patient.id}")
    assert code not in page.text
    again = portal.get(posted.headers["location"])  # shown once: reloading the page does not show it again
    assert again.status_code == 200 and code not in again.text and "cannot be displayed again" in again.text
    assert {"patient.create", "invitation.issue"} <= set(actions(session, actor_id=clinic.clinician.id))


def test_an_enrolment_with_a_bad_name_redisplays_the_form(portal: Portal, clinic: ClinicSetup) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    answer = portal.submit(
        "/portal/patients/new",
        "/portal/patients",
        {"display_name": "   ", "locale": "en", "timezone": "America/New_York", "country": "US"},
    )
    assert answer.status_code == 422 and "Name must be 1 to 200 characters." in answer.text
    assert 'name="display_name"' in answer.text


def test_a_clinician_cannot_enrol_into_someone_elses_caseload(
    portal: Portal, clinic: ClinicSetup, two_caseloads: dict[str, object]
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    answer = portal.submit(
        "/portal/patients/new",
        "/portal/patients",
        {"display_name": "Sneaky", "clinician_id": two_caseloads["dana"].staff.id},  # type: ignore[attr-defined]
    )
    assert answer.status_code == 403


def test_an_admin_chooses_the_clinician_when_enrolling(
    portal: Portal, clinic: ClinicSetup, two_caseloads: dict[str, object], session: Session
) -> None:
    dana = two_caseloads["dana"].staff  # type: ignore[attr-defined]
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    form = portal.get("/portal/patients/new").text
    assert "Dana Doctor" in form and "Chris Clinician" in form
    missing = portal.submit("/portal/patients/new", "/portal/patients", {"display_name": "Yan"})
    assert missing.status_code == 422 and "Choose the patient&#39;s clinician." in missing.text
    answer = portal.submit(
        "/portal/patients/new", "/portal/patients", {"display_name": "Yan Yilmaz", "clinician_id": dana.id}
    )
    assert portal.follow(answer).status_code == 200
    yan = next(p for p in session.exec(select(Patient)).all() if p.display_name == "Yan Yilmaz")
    assert yan.clinician_id == dana.id and yan.locale == "en"  # the clinic's defaults fill the gaps


def test_resending_an_invitation_revokes_the_old_code(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    patient, old_code = invite_patient(session, clinic, name="Rémi Roux")
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    answer = portal.follow(
        portal.submit(f"/portal/patients/{patient.id}", f"/portal/patients/{patient.id}/invitation/resend")
    )
    assert answer.status_code == 200 and "The previous code no longer works." in answer.text
    new_code = re.search(r'id="invite-code">([0-9A-Z-]{14})<', answer.text).group(1)  # type: ignore[union-attr]
    assert new_code != old_code
    with pytest.raises(Exception, match="not valid"):
        invitations.find_usable(session, code=old_code)
    invitations.find_usable(session, code=new_code)
    assert actions(session, actor_id=clinic.clinician.id)[-2:] == ["invitation.revoke", "invitation.issue"]


def test_revoking_an_invitation_stops_the_code(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    patient, code = invite_patient(session, clinic, name="Rémi Roux")
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    answer = portal.submit(f"/portal/patients/{patient.id}", f"/portal/patients/{patient.id}/invitation/revoke")
    assert answer.status_code == 303
    page = portal.get(answer.headers["location"])
    assert "The invitation is revoked" in page.text and "Revoked" in page.text
    session.expire_all()
    with pytest.raises(Exception, match="not valid"):
        invitations.find_usable(session, code=code)
    again = portal.submit(f"/portal/patients/{patient.id}", f"/portal/patients/{patient.id}/invitation/revoke")
    assert again.status_code == 409 and "no pending invitation" in again.text


def test_an_active_patient_gets_no_new_invitation(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    patient, _ = active_patient(session, clinic)
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = portal.get(f"/portal/patients/{patient.id}").text
    assert "New code and letter" not in page and "The patient activated their account on" in page
    answer = portal.submit(f"/portal/patients/{patient.id}", f"/portal/patients/{patient.id}/invitation/resend")
    assert answer.status_code == 409


def test_the_next_appointment_is_saved_in_the_clinics_time_zone(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    patient, _ = invite_patient(session, clinic)
    next_year = utcnow().year + 1
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    answer = portal.submit(
        f"/portal/patients/{patient.id}",
        f"/portal/patients/{patient.id}/appointment",
        {"next_appointment": f"{next_year}-01-15T09:30"},
    )
    assert answer.status_code == 303 and "saved=appointment" in answer.headers["location"]
    saved = reload(session, patient).next_appointment_at
    assert (saved.year, saved.month, saved.day, saved.hour, saved.minute) == (next_year, 1, 15, 14, 30)  # New York
    page = portal.get(answer.headers["location"]).text
    assert "The next appointment is saved." in page and f'value="{next_year}-01-15T09:30"' in page
    assert f"Jan 15, {next_year}, 9:30" in portal.get("/portal/").text
    assert "patient.update" in actions(session, patient_id=patient.id)

    cleared = portal.submit(
        f"/portal/patients/{patient.id}", f"/portal/patients/{patient.id}/appointment", {"clear": "1"}
    )
    assert cleared.status_code == 303 and reload(session, patient).next_appointment_at is None


def test_an_appointment_in_the_past_is_refused(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    patient, _ = invite_patient(session, clinic)
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    answer = portal.submit(
        f"/portal/patients/{patient.id}",
        f"/portal/patients/{patient.id}/appointment",
        {"next_appointment": "2020-01-15T09:30"},
    )
    assert answer.status_code == 422 and "must be in the future" in answer.text
    assert reload(session, patient).next_appointment_at is None


def test_an_admin_moves_a_patient_to_another_clinician(
    portal: Portal, other_portal: Portal, clinic: ClinicSetup, two_caseloads: dict[str, object], session: Session
) -> None:
    patient = two_caseloads["theirs"]
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    answer = portal.submit(
        f"/portal/patients/{patient.id}",  # type: ignore[attr-defined]
        f"/portal/patients/{patient.id}/clinician",  # type: ignore[attr-defined]
        {"clinician_id": clinic.clinician.id},
    )
    assert answer.status_code == 303
    assert reload(session, patient).clinician_id == clinic.clinician.id
    assert "patient.reassign" in actions(session, patient_id=patient.id)  # type: ignore[attr-defined]
    other_portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert "Bruno Brun" in other_portal.get("/portal/").text


def test_a_clinician_cannot_move_patients(
    portal: Portal, clinic: ClinicSetup, two_caseloads: dict[str, object], session: Session
) -> None:
    patient = two_caseloads["mine"]
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert 'name="clinician_id"' not in portal.get(f"/portal/patients/{patient.id}").text  # type: ignore[attr-defined]
    answer = portal.submit(
        "/portal/",
        f"/portal/patients/{patient.id}/clinician",  # type: ignore[attr-defined]
        {"clinician_id": two_caseloads["dana"].staff.id},  # type: ignore[attr-defined]
    )
    assert answer.status_code == 403 and "for clinic administrators" in answer.text
    assert reload(session, patient).clinician_id == clinic.clinician.id


def test_an_admin_cannot_move_a_patient_to_another_clinics_clinician(
    portal: Portal, clinic: ClinicSetup, two_caseloads: dict[str, object], session: Session
) -> None:
    patient = two_caseloads["mine"]
    outsider = two_caseloads["elsewhere"].clinician  # type: ignore[attr-defined]
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    answer = portal.submit("/portal/", f"/portal/patients/{patient.id}/clinician", {"clinician_id": outsider.id})  # type: ignore[attr-defined]
    assert answer.status_code == 404
    assert reload(session, patient).clinician_id == clinic.clinician.id


def test_a_patient_who_asked_for_erasure_is_flagged(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    patient, _ = active_patient(session, clinic)
    row = reload(session, patient)
    row.erasure_requested_at = utcnow()
    row.status = PatientStatus.ACTIVE
    session.add(row)
    session.commit()
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert "asked for their data to be erased" in portal.get(f"/portal/patients/{patient.id}").text
