"""First sign-in in a clinic that requires MFA: new password and TOTP enrolment before anything else."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlmodel import Session

from service.models import SessionStage
from tests.factories import ClinicSetup, create_clinic, invite_patient
from tests.portal.conftest import Portal, actions, current_code, reload, sessions_of

NEW_PASSWORD = "quiet-orchard-lantern-58"


@pytest.fixture
def mfa_clinic(session: Session) -> ClinicSetup:
    setup = create_clinic(session, name="Secure Clinic", mfa_required=True)
    invite_patient(session, setup, name="Noa Nilsson")
    return setup


def _enrol(portal: Portal, setup: ClinicSetup, session: Session) -> None:
    portal.login_ok(setup.clinician.email, setup.clinician_password)
    portal.get("/portal/enrol")
    answer = portal.submit(
        "/portal/enrol",
        "/portal/enrol",
        {
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "totp": current_code(reload(session, setup.clinician)),
        },
    )
    # Set up: the recovery codes are shown once, with the new session already open.
    assert answer.status_code == 201, answer.text
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", answer.text)
    assert len(set(codes)) == 10 and 'href="/portal/"' in answer.text
    assert len(reload(session, setup.clinician).recovery_codes) == 10


def test_first_login_goes_to_account_setup_and_nothing_else(
    portal: Portal, mfa_clinic: ClinicSetup, session: Session
) -> None:
    answer = portal.login_ok(mfa_clinic.clinician.email, mfa_clinic.clinician_password)
    assert answer.headers["location"] == "/portal/enrol"
    for path in ("/portal/", "/portal/patients/new", "/portal/staff"):
        blocked = portal.get(path)
        assert blocked.status_code == 303 and blocked.headers["location"] == "/portal/enrol"
    assert sessions_of(session, mfa_clinic.clinician)[0].stage == SessionStage.ENROLMENT


def test_setup_page_shows_the_secret_and_an_otpauth_uri(
    portal: Portal, mfa_clinic: ClinicSetup, session: Session
) -> None:
    portal.login_ok(mfa_clinic.clinician.email, mfa_clinic.clinician_password)
    page = portal.get("/portal/enrol")
    assert page.status_code == 200 and "Noa Nilsson" not in page.text
    secret = reload(session, mfa_clinic.clinician).totp_secret
    assert secret and secret in page.text
    uri = re.search(r'href="(otpauth://[^"]+)"', page.text)
    assert uri is not None
    parsed = pyotp.parse_uri(uri.group(1).replace("&amp;", "&"))
    assert parsed.secret == secret
    assert "Secure Clinic" in (parsed.issuer or "")
    assert parse_qs(urlparse(uri.group(1).replace("&amp;", "&")).query)["secret"] == [secret]
    assert portal.get("/portal/enrol").text.count(secret) >= 1  # the same secret until confirmed


def test_setup_refuses_a_wrong_code_and_keeps_the_one_time_password(
    portal: Portal, mfa_clinic: ClinicSetup, session: Session
) -> None:
    portal.login_ok(mfa_clinic.clinician.email, mfa_clinic.clinician_password)
    portal.get("/portal/enrol")
    answer = portal.submit(
        "/portal/enrol",
        "/portal/enrol",
        {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, "totp": "000000"},
    )
    assert answer.status_code == 422 and "authentication code is not right" in answer.text
    staff = reload(session, mfa_clinic.clinician)
    assert staff.totp_confirmed_at is None and staff.password_must_change


@pytest.mark.parametrize(
    ("new", "again", "message"),
    [
        ("short", "short", "at least 10 characters"),
        ("password1234", "password1234", "too common"),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "not the same"),
    ],
)
def test_setup_refuses_weak_or_mismatched_passwords(
    portal: Portal, mfa_clinic: ClinicSetup, session: Session, new: str, again: str, message: str
) -> None:
    portal.login_ok(mfa_clinic.clinician.email, mfa_clinic.clinician_password)
    portal.get("/portal/enrol")
    code = current_code(reload(session, mfa_clinic.clinician))
    answer = portal.submit(
        "/portal/enrol", "/portal/enrol", {"new_password": new, "confirm_password": again, "totp": code}
    )
    assert answer.status_code == 422 and message in answer.text
    assert reload(session, mfa_clinic.clinician).totp_confirmed_at is None


def test_setup_refuses_keeping_the_one_time_password(portal: Portal, mfa_clinic: ClinicSetup, session: Session) -> None:
    portal.login_ok(mfa_clinic.clinician.email, mfa_clinic.clinician_password)
    portal.get("/portal/enrol")
    same = mfa_clinic.clinician_password
    answer = portal.submit(
        "/portal/enrol",
        "/portal/enrol",
        {"new_password": same, "confirm_password": same, "totp": current_code(reload(session, mfa_clinic.clinician))},
    )
    assert answer.status_code == 422 and "different from the one-time password" in answer.text


def test_completed_setup_opens_a_new_session_and_the_caseload(
    portal: Portal, mfa_clinic: ClinicSetup, session: Session
) -> None:
    _enrol(portal, mfa_clinic, session)
    home = portal.get("/portal/")
    assert home.status_code == 200 and "Noa Nilsson" in home.text
    rows = sessions_of(session, mfa_clinic.clinician)
    assert [r.stage for r in rows if r.revoked_at is None] == [SessionStage.ACTIVE]
    assert len(rows) == 2  # the setup session was replaced, not upgraded
    staff = reload(session, mfa_clinic.clinician)
    assert staff.totp_confirmed_at is not None and not staff.password_must_change
    assert {"staff.password_change", "staff.mfa_enrol"} <= set(actions(session, actor_id=staff.id))


def test_after_setup_login_needs_the_new_password_and_a_code(
    portal: Portal, other_portal: Portal, mfa_clinic: ClinicSetup, session: Session
) -> None:
    _enrol(portal, mfa_clinic, session)
    staff = reload(session, mfa_clinic.clinician)
    assert other_portal.login(staff.email, mfa_clinic.clinician_password, current_code(staff)).status_code == 401
    assert other_portal.login(staff.email, NEW_PASSWORD).status_code == 401  # no code
    assert other_portal.login(staff.email, NEW_PASSWORD, "123456").status_code == 401
    answer = other_portal.login(staff.email, NEW_PASSWORD, current_code(staff, steps_ahead=1))
    assert answer.status_code == 303 and answer.headers["location"] == "/portal/"
    assert other_portal.get("/portal/").status_code == 200


def test_a_totp_code_cannot_be_used_twice(
    portal: Portal, other_portal: Portal, mfa_clinic: ClinicSetup, session: Session
) -> None:
    _enrol(portal, mfa_clinic, session)
    staff = reload(session, mfa_clinic.clinician)
    code = current_code(staff, steps_ahead=1)
    assert other_portal.login(staff.email, NEW_PASSWORD, code).status_code == 303
    replay = portal.login(staff.email, NEW_PASSWORD, code)
    assert replay.status_code == 401


def test_a_clinic_without_mfa_signs_in_with_the_one_time_password_directly(portal: Portal, clinic: ClinicSetup) -> None:
    answer = portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert answer.headers["location"] == "/portal/"
