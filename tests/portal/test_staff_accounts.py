"""Staff accounts: password reset by emailed link, the account page (password, authenticator and
recovery codes, language), and what an administrator can do to a colleague's account."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service import notify
from service.models import AuditEvent, Staff, StaffPasswordReset
from service.models.base import utcnow
from service.onboarding.staff import add_staff
from tests.factories import SYSTEM, ClinicSetup, active_patient, bearer, create_clinic
from tests.portal.conftest import Portal, actions, csrf_of, current_code, reload, sessions_of

NEW_PASSWORD = "harbour-violet-engine-73"
LINK = re.compile(r"(http\S+/portal/password-reset/new\?token=(\S+))")


def _reset_token(mailbox, count: int = 1) -> str:  # type: ignore[no-untyped-def]
    notify.deliver_due()
    messages = mailbox.wait_for(count)
    assert len(messages) == count
    body = messages[-1].get_body(preferencelist=("plain",)).get_content()
    found = LINK.search(body)
    assert found, body
    return found.group(2)


def _ask(portal: Portal, email: str):  # type: ignore[no-untyped-def]
    return portal.submit("/portal/password-reset", "/portal/password-reset", {"email": email})


def _choose(portal: Portal, token: str, password: str, again: str | None = None):  # type: ignore[no-untyped-def]
    return portal.submit(
        f"/portal/password-reset/new?token={token}",
        "/portal/password-reset/new",
        {"token": token, "new_password": password, "confirm_password": again or password},
    )


def _post(portal: Portal, page: str, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    """Post with the CSRF token of ``page`` even when that page answers with an error status."""
    token = csrf_of(portal.client.get(page).text)
    return portal.client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def _live_sessions(session: Session, staff: Staff) -> int:
    return sum(1 for row in sessions_of(session, staff) if row.revoked_at is None)


# --- password reset -------------------------------------------------------------------------


def test_a_reset_request_answers_the_same_for_known_and_unknown_addresses(
    portal: Portal, clinic: ClinicSetup, mailbox
) -> None:  # type: ignore[no-untyped-def]
    unknown = _ask(portal, "nobody@example.org")
    known = _ask(portal, clinic.clinician.email.upper())
    assert unknown.status_code == known.status_code == 303
    assert unknown.headers["location"] == known.headers["location"] == "/portal/password-reset?sent=1"
    shown = portal.get(known.headers["location"])
    assert "If this address belongs to a staff account" in shown.text
    notify.deliver_due()
    assert [m["To"] for m in mailbox.wait_for(1)] == [clinic.clinician.email]


def test_the_emailed_link_sets_a_new_password_once_and_ends_every_session(
    portal: Portal, other_portal: Portal, clinic: ClinicSetup, session: Session, mailbox
) -> None:  # type: ignore[no-untyped-def]
    other_portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert _live_sessions(session, clinic.clinician) == 1
    _ask(portal, clinic.clinician.email)
    token = _reset_token(mailbox)
    row = session.exec(select(StaffPasswordReset)).one()
    assert row.expires_at - row.created_at == timedelta(minutes=30)
    assert row.token_hash != token  # only the hash is kept

    assert portal.get(f"/portal/password-reset/new?token={token}").status_code == 200
    mismatch = _choose(portal, token, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert mismatch.status_code == 422 and "not the same" in mismatch.text
    weak = _choose(portal, token, "password1234")
    assert weak.status_code == 422  # the password policy; the link stays usable
    done = _choose(portal, token, NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/portal/login?reset=1"

    assert _live_sessions(session, clinic.clinician) == 0
    assert other_portal.get("/portal/").status_code == 303  # signed out there
    assert portal.login(clinic.clinician.email, clinic.clinician_password).status_code == 401
    portal.login_ok(clinic.clinician.email, NEW_PASSWORD)
    again = _post(
        portal,
        "/portal/login",
        "/portal/password-reset/new",
        {"token": token, "new_password": "another-" + NEW_PASSWORD, "confirm_password": "another-" + NEW_PASSWORD},
    )
    assert again.status_code == 410 and "invalid, already used or expired" in again.text
    assert "staff.password_reset" in actions(session, entity_id=clinic.clinician.id)


def test_an_expired_link_is_refused_and_changes_nothing(
    portal: Portal, clinic: ClinicSetup, session: Session, mailbox
) -> None:  # type: ignore[no-untyped-def]
    _ask(portal, clinic.clinician.email)
    token = _reset_token(mailbox)
    row = session.exec(select(StaffPasswordReset)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert portal.get(f"/portal/password-reset/new?token={token}").status_code == 410
    answer = _post(
        portal,
        "/portal/login",
        "/portal/password-reset/new",
        {"token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert answer.status_code == 410
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)


def test_reset_requests_are_rate_limited_per_account(
    portal: Portal, clinic: ClinicSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.config import get_settings

    monkeypatch.setenv("TANDEM_RATE_LIMIT_PASSWORD_RESET_ACCOUNT", "2/15m")
    get_settings.cache_clear()
    assert _ask(portal, clinic.clinician.email).status_code == 303
    assert _ask(portal, clinic.clinician.email).status_code == 303
    third = _ask(portal, clinic.clinician.email)
    assert third.status_code == 429 and int(third.headers["Retry-After"]) > 0
    assert "Too many requests" in third.text


def test_a_single_sign_on_account_gets_no_reset_link(
    portal: Portal, clinic: ClinicSetup, session: Session, mailbox
) -> None:  # type: ignore[no-untyped-def]
    staff = reload(session, clinic.clinician)
    staff.oidc_issuer, staff.oidc_subject = "https://idp.example.org", "sub-1"
    session.add(staff)
    session.commit()
    assert _ask(portal, clinic.clinician.email).headers["location"] == "/portal/password-reset?sent=1"
    notify.deliver_due()
    assert mailbox.wait_for(1, timeout=1) == []
    assert session.exec(select(StaffPasswordReset)).all() == []


# --- the account page -------------------------------------------------------------------------


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    portal: Portal, other_portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    other_portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    wrong = portal.submit(
        "/portal/account",
        "/portal/account/password",
        {"current_password": "not-it", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422 and "The current password is incorrect." in wrong.text
    assert _live_sessions(session, clinic.clinician) == 2
    done = portal.submit(
        "/portal/account",
        "/portal/account/password",
        {
            "current_password": clinic.clinician_password,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/portal/account?saved=password"
    assert "Your new password is saved." in portal.get(done.headers["location"]).text  # still signed in here
    assert other_portal.get("/portal/").status_code == 303  # the other browser is signed out
    assert _live_sessions(session, clinic.clinician) == 1
    assert actions(session, entity_id=clinic.clinician.id)[-2:] == [
        "staff.password_change_failed",
        "staff.password_change",
    ]


def test_an_authenticator_is_set_up_from_the_account_page_with_recovery_codes_that_work_once(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    start = portal.submit("/portal/account", "/portal/account/authenticator")
    assert start.status_code == 303 and start.headers["location"] == "/portal/account/authenticator"
    secret = reload(session, clinic.clinician).totp_pending_secret
    assert secret and secret in portal.get("/portal/account/authenticator").text
    wrong = portal.submit("/portal/account/authenticator", "/portal/account/authenticator/confirm", {"totp": "000000"})
    assert wrong.status_code == 422
    code = pyotp.TOTP(secret).now()
    done = portal.submit("/portal/account/authenticator", "/portal/account/authenticator/confirm", {"totp": code})
    assert done.status_code == 201
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    staff = reload(session, clinic.clinician)
    assert staff.totp_confirmed_at is not None and staff.totp_secret == secret and staff.totp_pending_secret is None
    assert all(c not in str(staff.recovery_codes) for c in codes)  # only digests are kept

    fresh = Portal(TestClient(portal.client.app))
    assert fresh.login(clinic.clinician.email, clinic.clinician_password).status_code == 401  # a code is needed now
    fresh.login_ok(clinic.clinician.email, clinic.clinician_password, codes[0].upper())
    assert len(reload(session, clinic.clinician).recovery_codes) == 9
    again = Portal(TestClient(portal.client.app))
    assert again.login(clinic.clinician.email, clinic.clinician_password, codes[0]).status_code == 401
    assert "staff.recovery_code_used" in actions(session, entity_id=clinic.clinician.id)


def test_new_recovery_codes_need_the_password_and_replace_the_old_ones(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    portal.submit("/portal/account", "/portal/account/authenticator")
    secret = reload(session, clinic.clinician).totp_pending_secret
    first = portal.submit(
        "/portal/account/authenticator", "/portal/account/authenticator/confirm", {"totp": pyotp.TOTP(secret).now()}
    )
    old = re.findall(r"<code>([a-z0-9-]{11})</code>", first.text)
    refused = portal.submit("/portal/account", "/portal/account/recovery-codes", {"current_password": "nope"})
    assert refused.status_code == 422
    made = portal.submit(
        "/portal/account", "/portal/account/recovery-codes", {"current_password": clinic.clinician_password}
    )
    assert made.status_code == 201
    new = re.findall(r"<code>([a-z0-9-]{11})</code>", made.text)
    assert len(new) == 10 and not set(new) & set(old)
    stranger = Portal(TestClient(portal.client.app))
    assert stranger.login(clinic.clinician.email, clinic.clinician_password, old[0]).status_code == 401
    stranger.login_ok(clinic.clinician.email, clinic.clinician_password, new[0])


def test_the_chosen_language_is_kept_for_the_next_sign_in(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    bad = portal.submit("/portal/account", "/portal/account/language", {"locale": "xx"})
    assert bad.status_code == 422
    saved = portal.submit("/portal/account", "/portal/account/language", {"locale": "fr"})
    assert saved.status_code == 303
    assert "Mon compte" in portal.get("/portal/account?saved=language").text
    later = Portal(TestClient(portal.client.app))
    later.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert '<html lang="fr"' in later.get("/portal/").text
    assert reload(session, clinic.clinician).locale == "fr"


def test_a_single_sign_on_account_has_no_local_password_on_its_page(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    staff = reload(session, clinic.clinician)
    staff.oidc_issuer, staff.oidc_subject = "https://idp.example.org", "sub-1"
    session.add(staff)
    session.commit()
    page = portal.get("/portal/account")
    assert "You sign in with single sign-on" in page.text
    assert 'name="current_password"' not in page.text
    refused = _post(
        portal,
        "/portal/account",
        "/portal/account/password",
        {"current_password": clinic.clinician_password, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert refused.status_code == 422 and "single sign-on" in refused.text


# --- an administrator's actions on staff ------------------------------------------------------


def test_an_admin_sends_a_reset_link_and_it_works(
    portal: Portal, other_portal: Portal, clinic: ClinicSetup, session: Session, mailbox
) -> None:  # type: ignore[no-untyped-def]
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    sent = portal.submit("/portal/staff", f"/portal/staff/{clinic.clinician.id}/password-reset")
    assert sent.status_code == 303 and sent.headers["location"] == "/portal/staff?saved=reset_sent"
    token = _reset_token(mailbox)
    assert _choose(other_portal, token, NEW_PASSWORD).status_code == 303
    other_portal.login_ok(clinic.clinician.email, NEW_PASSWORD)
    rows = session.exec(select(AuditEvent).where(AuditEvent.action == "staff.password_reset_sent")).all()
    assert [(r.actor_id, r.entity_id) for r in rows] == [(clinic.admin.id, clinic.clinician.id)]


def test_an_admin_resets_a_lost_authenticator(portal: Portal, other_portal: Portal, session: Session) -> None:
    setup = create_clinic(session, name="Secure Clinic", mfa_required=True)
    member = reload(session, setup.clinician)
    member.totp_secret = pyotp.random_base32()
    member.totp_confirmed_at = utcnow()
    member.password_must_change = False
    session.add(member)
    session.commit()
    admin = reload(session, setup.admin)
    admin.totp_secret = pyotp.random_base32()
    admin.totp_confirmed_at = utcnow()
    admin.password_must_change = False
    session.add(admin)
    session.commit()
    member = reload(session, setup.clinician)
    other_portal.login_ok(setup.clinician.email, setup.clinician_password, current_code(member))
    portal.login_ok(setup.admin.email, setup.admin_password, current_code(admin))
    assert "Reset the authenticator" in portal.get("/portal/staff").text
    done = portal.submit("/portal/staff", f"/portal/staff/{setup.clinician.id}/authenticator-reset")
    assert done.status_code == 303 and done.headers["location"] == "/portal/staff?saved=authenticator_reset"
    member = reload(session, setup.clinician)
    assert member.totp_secret is None and member.totp_confirmed_at is None and member.recovery_codes == []
    assert other_portal.get("/portal/").status_code == 303  # signed out at once
    again = Portal(TestClient(portal.client.app))
    assert again.login_ok(setup.clinician.email, setup.clinician_password).headers["location"] == "/portal/enrol"
    assert "staff.mfa_reset" in actions(session, entity_id=setup.clinician.id)


def test_deactivation_ends_sessions_at_once_and_refuses_sign_in_until_reactivated(
    portal: Portal, other_portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    other_portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    portal.submit("/portal/staff", f"/portal/staff/{clinic.clinician.id}/deactivate")
    assert _live_sessions(session, clinic.clinician) == 0
    assert other_portal.get("/portal/").status_code == 303
    assert other_portal.login(clinic.clinician.email, clinic.clinician_password).status_code == 401
    reset = portal.submit("/portal/staff", f"/portal/staff/{clinic.clinician.id}/password-reset")
    assert reset.status_code == 422  # no reset link for a deactivated account
    portal.submit("/portal/staff", f"/portal/staff/{clinic.clinician.id}/reactivate")
    other_portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    trail = actions(session, entity_id=clinic.clinician.id)
    assert trail.index("staff.deactivate") < trail.index("staff.reactivate")


def test_admin_account_actions_stay_inside_the_clinic_and_need_an_admin(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    elsewhere = create_clinic(session, name="Other Clinic")
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    foreign = portal.submit("/portal/staff", f"/portal/staff/{elsewhere.clinician.id}/password-reset")
    assert foreign.status_code == 404
    other = add_staff(session, clinic=clinic.clinic, email="x@example.org", name="X", role="clinician", actor=SYSTEM)
    clinician = Portal(TestClient(portal.client.app))
    clinician.login_ok(clinic.clinician.email, clinic.clinician_password)
    refused = clinician.submit("/portal/account", f"/portal/staff/{other.staff.id}/authenticator-reset")
    assert refused.status_code == 403


def test_alert_emails_speak_the_language_the_clinician_chose(
    portal: Portal, client: TestClient, clinic: ClinicSetup, session: Session, mailbox
) -> None:  # type: ignore[no-untyped-def]
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    portal.submit("/portal/account", "/portal/account/language", {"locale": "fr"})
    _, tokens = active_patient(session, clinic)
    answer = client.post(
        "/api/v1/checkins", json={"mood": 1, "note": "I've written my goodbye letters"}, headers=bearer(tokens)
    )
    assert answer.status_code == 201 and answer.json()["risk"]["level"] == "high"
    notify.deliver_due()
    subjects = [m["Subject"] for m in mailbox.wait_for(1) if m["To"] == clinic.clinician.email]
    assert subjects and subjects[0].startswith("[Tandem] Alerte urgente")  # the clinic itself speaks English
