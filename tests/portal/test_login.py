"""Password sign-in, lockout, server-side sessions and their limits, CSRF and security headers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.config import get_settings
from service.crypto import token_digest
from service.models import PortalSession
from service.models.base import utcnow
from tests.factories import ClinicSetup
from tests.portal.conftest import Portal, actions, csrf_of, reload, sessions_of

GENERIC = "Sign-in failed. Check your email, password and authentication code"


def test_login_form_has_the_contract_fields(portal: Portal) -> None:
    page = portal.get("/portal/login")
    assert page.status_code == 200
    for name in ("email", "password", "totp", "csrf_token"):
        assert f'name="{name}"' in page.text
    assert 'type="hidden" name="csrf_token"' in page.text


def test_password_login_redirects_to_the_caseload_with_a_safe_cookie(portal: Portal, clinic: ClinicSetup) -> None:
    answer = portal.login(clinic.clinician.email, clinic.clinician_password)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("tandem_portal_session="))
    assert "HttpOnly" in cookie and "Path=/portal" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # base_url is plain http in tests
    home = portal.get("/portal/")
    assert home.status_code == 200
    assert "My caseload" in home.text and clinic.clinician.name in home.text


def test_the_session_token_is_stored_only_hashed(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    answer = portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    token = answer.cookies["tandem_portal_session"]
    [row] = sessions_of(session, clinic.clinician)
    assert row.token_hash == token_digest(token) and token not in row.token_hash


def test_session_cookie_is_secure_when_the_service_runs_on_https(
    app,
    clinic: ClinicSetup,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("TANDEM_BASE_URL", "https://portal.example.org")
    get_settings.cache_clear()
    with TestClient(app, base_url="https://portal.example.org") as https_client:
        answer = Portal(https_client).login(clinic.clinician.email, clinic.clinician_password)
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("tandem_portal_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert "max-age=31536000" in answer.headers["strict-transport-security"]


@pytest.mark.parametrize("which", ["password", "email"])
def test_a_wrong_password_or_unknown_email_reads_the_same(
    portal: Portal, clinic: ClinicSetup, session: Session, which: str
) -> None:
    email = clinic.clinician.email if which == "password" else "nobody@nowhere.example.org"
    answer = portal.login(email, "not-the-password")
    assert answer.status_code == 401
    assert GENERIC in answer.text
    assert "tandem_portal_session" not in answer.cookies
    assert "staff.login_failed" in actions(session)


def test_five_failures_slow_down_the_guessing_address_but_never_lock_the_account(
    portal: Portal, clinic: ClinicSetup, session: Session, app
) -> None:
    """A stranger who knows a clinician's email cannot keep them out of the alert queue."""
    for _ in range(5):
        assert portal.login(clinic.clinician.email, "wrong-password-here").status_code == 401
    staff = reload(session, clinic.clinician)
    assert staff.failed_logins == 5
    assert staff.locked_until is None
    assert actions(session, actor_id=staff.id).count("staff.login_failed") == 5

    # The guessing address now waits, even with the right password.
    throttled = portal.login(clinic.clinician.email, clinic.clinician_password)
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert "Too many sign-in attempts" in throttled.text
    assert "tandem_portal_session" not in throttled.cookies

    # The clinician, from their own connection, signs in at once.
    with TestClient(app, client=("198.51.100.23", 40000)) as own_browser:
        Portal(own_browser).login_ok(clinic.clinician.email, clinic.clinician_password)
    assert reload(session, staff).failed_logins == 0


def test_the_guessing_address_is_slowed_for_every_account_it_tries_too_fast(
    portal: Portal, clinic: ClinicSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TANDEM_RATE_LIMIT_PORTAL_LOGIN_IP", "3/5m")
    get_settings.cache_clear()
    for number in range(3):
        assert portal.login(f"someone{number}@example.org", "wrong-password-here").status_code == 401
    answer = portal.login(clinic.admin.email, clinic.admin_password)
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) <= 300


def test_login_success_and_failure_are_audited(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    portal.login(clinic.clinician.email, "wrong-password-here")
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    mine = actions(session, actor_id=clinic.clinician.id)
    assert mine[-2:] == ["staff.login_failed", "staff.login"]


def test_signing_in_again_replaces_the_session_id(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    first = portal.login_ok(clinic.clinician.email, clinic.clinician_password).cookies["tandem_portal_session"]
    second = portal.login_ok(clinic.clinician.email, clinic.clinician_password).cookies["tandem_portal_session"]
    assert first != second
    rows = {row.token_hash: row for row in sessions_of(session, clinic.clinician)}
    assert rows[token_digest(first)].revoked_at is not None
    assert rows[token_digest(second)].revoked_at is None


def test_logout_revokes_the_session(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    token = portal.login_ok(clinic.clinician.email, clinic.clinician_password).cookies["tandem_portal_session"]
    out = portal.submit("/portal/", "/portal/logout")
    assert out.status_code == 303 and out.headers["location"].startswith("/portal/login")
    [row] = sessions_of(session, clinic.clinician)
    assert row.revoked_at is not None
    portal.client.cookies.set("tandem_portal_session", token, path="/portal")  # a copied cookie is dead too
    again = portal.get("/portal/")
    assert again.status_code == 303 and again.headers["location"].startswith("/portal/login")


def _age_session(session: Session, staff_id: str, **changes: object) -> None:
    session.expire_all()
    row = session.exec(select(PortalSession).where(PortalSession.staff_id == staff_id)).one()
    for name, value in changes.items():
        setattr(row, name, value)
    session.add(row)
    session.commit()


def test_an_idle_session_ends_after_15_minutes(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    _age_session(session, clinic.clinician.id, last_seen_at=utcnow() - timedelta(minutes=14))
    assert portal.get("/portal/").status_code == 200  # 14 idle minutes: still open, and refreshed
    _age_session(session, clinic.clinician.id, last_seen_at=utcnow() - timedelta(minutes=15, seconds=5))
    ended = portal.get("/portal/patients/some-id")
    assert ended.status_code == 303
    assert ended.headers["location"] == "/portal/login?ended=1&next=%2Fportal%2Fpatients%2Fsome-id"
    login_page = portal.get(ended.headers["location"])
    assert "Your session has ended" in login_page.text


def test_activity_keeps_a_session_open(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    _age_session(session, clinic.clinician.id, last_seen_at=utcnow() - timedelta(minutes=10))
    assert portal.get("/portal/").status_code == 200
    [row] = sessions_of(session, clinic.clinician)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_a_session_ends_after_12_hours_even_when_active(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    [row] = sessions_of(session, clinic.clinician)
    assert timedelta(hours=11, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=12)
    _age_session(session, clinic.clinician.id, expires_at=utcnow() - timedelta(seconds=1))
    answer = portal.get("/portal/")
    assert answer.status_code == 303 and "ended=1" in answer.headers["location"]


def test_a_form_without_csrf_token_is_refused(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    portal.get("/portal/login")
    answer = portal.client.post(
        "/portal/login",
        data={"email": clinic.clinician.email, "password": clinic.clinician_password},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "This form has expired" in answer.text
    assert "tandem_portal_session" not in answer.cookies
    assert "staff.login" not in actions(session)


def test_a_form_with_a_forged_csrf_token_is_refused(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    answer = portal.client.post("/portal/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert answer.status_code == 403
    assert sessions_of(session, clinic.clinician)[0].revoked_at is None


def test_another_browsers_token_is_refused(
    portal: Portal, other_portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    other_portal.login_ok(clinic.admin.email, clinic.admin_password)
    their_token = csrf_of(other_portal.get("/portal/").text)
    answer = portal.client.post("/portal/logout", data={"csrf_token": their_token}, follow_redirects=False)
    assert answer.status_code == 403


def test_pages_carry_security_headers_and_are_never_cached(portal: Portal, clinic: ClinicSetup) -> None:
    login_page = portal.get("/portal/login")
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    for answer in (login_page, portal.get("/portal/")):
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["cache-control"] == "no-store"
    assert "<script>" not in login_page.text and " style=" not in login_page.text  # the CSP would block them


def test_static_files_are_served_and_cacheable(portal: Portal) -> None:
    page = portal.get("/portal/login").text
    assert "/portal/static/portal.css?v=" in page and "/portal/static/portal.js?v=" in page
    css = portal.get("/portal/static/portal.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert css.headers["cache-control"].startswith("public")
    assert css.headers["x-content-type-options"] == "nosniff"


def test_after_login_the_requested_page_opens_but_never_an_outside_one(portal: Portal, clinic: ClinicSetup) -> None:
    answer = portal.submit(
        "/portal/login",
        "/portal/login",
        {"email": clinic.clinician.email, "password": clinic.clinician_password, "next": "/portal/patients/new"},
    )
    assert answer.headers["location"] == "/portal/patients/new"
    evil = portal.submit(
        "/portal/login",
        "/portal/login",
        {"email": clinic.clinician.email, "password": clinic.clinician_password, "next": "//evil.example/portal/"},
    )
    assert evil.headers["location"] == "/portal/"


def test_unknown_portal_pages_get_an_html_404(portal: Portal) -> None:
    answer = portal.get("/portal/no-such-page")
    assert answer.status_code == 404
    assert "text/html" in answer.headers["content-type"] and "Page not found" in answer.text
