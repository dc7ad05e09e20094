"""Clinic administration: staff accounts and the audit log, for administrators only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.models import AuditEvent, Staff
from service.models.base import utcnow
from tests.factories import ClinicSetup, create_clinic, invite_patient
from tests.portal.conftest import Portal, actions, reload, sessions_of

ADMIN_PAGES = ["/portal/staff", "/portal/audit", "/portal/audit/checkpoints"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_clinicians_cannot_open_admin_pages(portal: Portal, clinic: ClinicSetup, path: str) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    answer = portal.get(path)
    assert answer.status_code == 403 and "Not allowed" in answer.text
    assert 'href="/portal/staff"' not in portal.get("/portal/").text


@pytest.mark.parametrize("action", ["/portal/staff", "/portal/staff/x/deactivate", "/portal/staff/x/reactivate"])
def test_clinicians_cannot_post_admin_forms(portal: Portal, clinic: ClinicSetup, action: str) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    answer = portal.submit("/portal/", action, {"name": "X", "email": "x@example.org", "role": "admin"})
    assert answer.status_code == 403


@pytest.mark.parametrize("path", ["/portal/", "/portal/staff", "/portal/audit", "/portal/patients/new"])
def test_signed_out_visitors_are_sent_to_the_login_page(portal: Portal, path: str) -> None:
    answer = portal.get(path)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/portal/login?next=")


def test_the_staff_list_shows_the_clinic_only(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    other = create_clinic(session, name="Far Clinic")
    invite_patient(session, clinic)
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    page = portal.get("/portal/staff")
    assert page.status_code == 200
    assert clinic.clinician.email in page.text and clinic.admin.email in page.text
    assert other.clinician.email not in page.text
    row = re.search(r"Chris Clinician.*?</tr>", page.text, re.S)
    assert row is not None and "<td>1</td>" in row.group(0)  # one patient in Chris's caseload


def test_an_admin_invites_a_clinician_who_can_sign_in_with_the_one_time_password(
    portal: Portal, other_portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    answer = portal.submit(
        "/portal/staff",
        "/portal/staff",
        {"name": "Noé Nouveau", "email": "Noe@Test-Clinic.example.org", "role": "clinician"},
    )
    assert answer.status_code == 201 and "This one-time password is shown only once." in answer.text
    password = re.search(r'id="one-time-password">([^<]+)<', answer.text).group(1)  # type: ignore[union-attr]
    new = session.exec(select(Staff).where(Staff.email == "noe@test-clinic.example.org")).one()
    assert new.clinic_id == clinic.clinic.id and new.role == "clinician"
    assert password not in (new.password_hash or "")
    assert "staff.create" in actions(session, actor_id=clinic.admin.id)
    assert password not in portal.get("/portal/staff").text
    other_portal.login_ok("noe@test-clinic.example.org", password)
    assert "My caseload" in other_portal.get("/portal/").text


def test_inviting_a_duplicate_or_invalid_email_redisplays_the_form(portal: Portal, clinic: ClinicSetup) -> None:
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    duplicate = portal.submit(
        "/portal/staff", "/portal/staff", {"name": "Twin", "email": clinic.clinician.email, "role": "clinician"}
    )
    assert duplicate.status_code == 409 and "already exists" in duplicate.text
    invalid = portal.submit(
        "/portal/staff", "/portal/staff", {"name": "Bad", "email": "not-an-email", "role": "clinician"}
    )
    assert invalid.status_code == 422 and "not a valid email address" in invalid.text
    assert 'value="Bad"' in invalid.text


def test_deactivation_ends_the_staff_members_sessions_at_once(
    portal: Portal, other_portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    other_portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert other_portal.get("/portal/").status_code == 200
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    answer = portal.submit("/portal/staff", f"/portal/staff/{clinic.clinician.id}/deactivate")
    assert answer.status_code == 303
    assert "deactivated" in portal.get(answer.headers["location"]).text
    assert other_portal.get("/portal/").status_code == 303  # signed out on their next click
    assert all(row.revoked_at is not None for row in sessions_of(session, clinic.clinician))
    assert other_portal.login(clinic.clinician.email, clinic.clinician_password).status_code == 401
    assert "staff.deactivate" in actions(session, actor_id=clinic.admin.id)

    portal.submit("/portal/staff", f"/portal/staff/{clinic.clinician.id}/reactivate")
    assert reload(session, clinic.clinician).active
    other_portal.login_ok(clinic.clinician.email, clinic.clinician_password)


def test_an_admin_cannot_deactivate_themselves_or_another_clinics_staff(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    other = create_clinic(session, name="Far Clinic")
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    own = portal.submit("/portal/staff", f"/portal/staff/{clinic.admin.id}/deactivate")
    assert own.status_code == 422 and "cannot deactivate your own account" in own.text
    foreign = portal.submit("/portal/staff", f"/portal/staff/{other.clinician.id}/deactivate")
    assert foreign.status_code == 404
    assert reload(session, other.clinician).active


def _audit_rows(html: str) -> list[str]:
    return re.findall(r'<td data-action="([a-z_.]+)">', html)


def test_the_audit_log_filters_by_actor_patient_action_and_date(
    portal: Portal, other_portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    patient, _ = invite_patient(session, clinic, name="Lou Leroy")
    other_patient, _ = invite_patient(session, clinic, name="Max Martin")
    other_portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    other_portal.get(f"/portal/patients/{patient.id}")
    other_portal.get(f"/portal/patients/{other_patient.id}")
    portal.login_ok(clinic.admin.email, clinic.admin_password)

    everything = portal.get("/portal/audit")
    assert everything.status_code == 200 and "patient.view" in everything.text and "Lou Leroy" in everything.text

    by_patient = portal.get(f"/portal/audit?patient={patient.id}&action=patient.view")
    assert _audit_rows(by_patient.text) == ["patient.view"]
    assert "Chris Clinician" in by_patient.text

    by_actor = portal.get(f"/portal/audit?actor={clinic.clinician.id}")
    assert set(_audit_rows(by_actor.text)) == {"patient.view", "staff.login"}

    today = utcnow().date()
    assert _audit_rows(portal.get(f"/portal/audit?since={today + timedelta(days=2)}").text) == []
    assert "patient.view" in _audit_rows(
        portal.get(f"/portal/audit?since={today - timedelta(days=1)}&until={today + timedelta(days=1)}").text
    )
    backwards = portal.get(f"/portal/audit?since={today}&until={today - timedelta(days=3)}")
    assert backwards.status_code == 422 and "before its end" in backwards.text
    assert portal.get("/portal/audit?since=yesterday").status_code == 422


def test_the_audit_log_is_paginated_and_never_shows_other_clinics(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    other = create_clinic(session, name="Far Clinic")
    far_patient, _ = invite_patient(session, other, name="Far Away")
    for number in range(60):
        invite_patient(session, clinic, name=f"Patient {number}")
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    first = portal.get("/portal/audit?action=invitation.issue")
    assert len(_audit_rows(first.text)) == 50 and 'rel="next"' in first.text and 'rel="prev"' not in first.text
    second = portal.get("/portal/audit?action=invitation.issue&page=2")
    assert len(_audit_rows(second.text)) == 10 and 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert "Far Away" not in first.text + second.text
    other_ids = {e.id for e in session.exec(select(AuditEvent).where(AuditEvent.clinic_id == other.clinic.id))}
    assert other_ids and far_patient.id not in first.text + second.text


def test_the_audit_log_says_what_happened_in_words(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    invite_patient(session, clinic, name="Lou Leroy")
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    portal.get("/portal/")
    page = portal.get("/portal/audit").text
    assert "Caseload viewed</td>" in page and "Invitation issued</td>" in page
    assert ">patient.list<" not in page and ">invitation.issue<" not in page  # the codes stay out of sight
    assert '<option value="patient.list">Caseload viewed</option>' in page
    portal.submit("/portal/audit", "/portal/language", {"locale": "fr", "next": "/portal/audit"})
    french = portal.get("/portal/audit").text
    assert "Liste des patients consultée</td>" in french and "Invitation créée</td>" in french


def test_reading_the_audit_log_is_itself_audited(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    portal.get("/portal/audit?action=staff.login")
    assert actions(session, actor_id=clinic.admin.id)[-1] == "audit.search"
