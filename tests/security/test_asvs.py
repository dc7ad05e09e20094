"""OWASP ASVS 5.0 level 2, the items that apply to Tandem's faces, one test each (or a pointer to the
test that already proves it).

- V7.2.4 session id renewed at sign-in: tests/portal/test_login.py::test_signing_in_again_replaces_the_session_id
  and below, the pre-sign-in cookie never becomes the session.
- V7.3.1 idle timeout, V7.3.2 absolute timeout: test_an_idle_session_ends_after_15_minutes and
  test_a_session_ends_after_12_hours_even_when_active (tests/portal/test_login.py).
- V3.5.1 CSRF on every state-changing request: every portal route that is not GET, read from the app.
- V3.4.3 CSP without inline script, on every portal page and every API answer.
- V3.4.1 HSTS when served over HTTPS, on both faces.
- V14.3.2 no-store on every answer with patient data: every portal page with a patient id, API answers.
- V13.4.x operator endpoints: /metrics only from configured networks or with a token.

The client web app (/app/) does not exist yet: its CSP test belongs with it.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import get_settings
from service.models import Patient
from tests.factories import ClinicSetup, active_patient, bearer
from tests.portal.clinical import raise_alert
from tests.portal.conftest import Portal, csrf_of
from tests.security.test_idor_matrix import api_routes

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
_EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


@pytest.fixture
def patient(session: Session, clinic: ClinicSetup) -> Patient:
    patient, _ = active_patient(session, clinic)
    return patient


def _portal_routes(app, method: str) -> list[str]:  # type: ignore[no-untyped-def]
    mounted = next(route for route in app.routes if getattr(route, "path", None) == "/portal")
    return sorted({route.path for route in api_routes(mounted.app.routes) if method in route.methods})


def test_v7_2_4_the_sign_in_cookie_never_becomes_the_session(portal: Portal, clinic: ClinicSetup) -> None:
    before = portal.client.get("/portal/login")
    flow = portal.client.cookies.get("tandem_portal_signin")
    assert before.status_code == 200 and flow
    signed_in = portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    session_cookie = signed_in.cookies.get("tandem_portal_session")
    assert session_cookie and session_cookie != flow
    assert "tandem_portal_signin" not in portal.client.cookies or portal.client.cookies.get("tandem_portal_signin") in (
        None,
        "",
    )


def test_v3_5_1_every_state_changing_portal_route_demands_the_csrf_token(
    app, portal: Portal, clinic: ClinicSetup, session: Session, patient: Patient
) -> None:  # type: ignore[no-untyped-def]
    alert = raise_alert(session, patient)
    ids = {
        "patient_id": patient.id,
        "alert_id": alert.id,
        "staff_id": clinic.clinician.id,
        "assignment_id": "0b7e8d6a-1f7c-4c47-9a51-2f0f3c1d9e11",
        "shift_id": "5d1c9a0e-6b2f-4e7a-8c3d-9f1e2a3b4c5d",
        "request_id": "7a2e4c1b-3d5f-4a6b-9c8d-0e1f2a3b4c5d",
        "change": "pause",
    }
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    routes = _portal_routes(app, "POST")
    assert len(routes) >= 15
    for path in routes:
        url = "/portal" + path.format(**ids)
        without = portal.client.post(url, data={"note": "x", "resolution": "called_client"}, follow_redirects=False)
        forged = portal.client.post(url, data={"csrf_token": "f" * 64}, follow_redirects=False)
        assert without.status_code == 403, (url, without.status_code)
        assert forged.status_code == 403, (url, forged.status_code)
    assert portal.get("/portal/").status_code == 200  # still signed in: the refusals changed nothing


def test_v3_4_3_portal_pages_run_no_inline_script(
    portal: Portal, clinic: ClinicSetup, session: Session, patient: Patient
) -> None:
    alert = raise_alert(session, patient)
    login_page = portal.get("/portal/login")
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    pages = [
        login_page,
        portal.get("/portal/"),
        portal.get(f"/portal/patients/{patient.id}"),
        portal.get("/portal/alerts"),
        portal.get(f"/portal/alerts/{alert.id}"),
        portal.get("/portal/alerts/resolved"),
        portal.get("/portal/patients/new"),
        portal.get("/portal/staff"),
        portal.get("/portal/audit"),
        portal.get("/portal/no-such-page"),
    ]
    for answer in pages:
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy
        assert not _INLINE_SCRIPT.search(answer.text), answer.url
        assert not _EVENT_HANDLER.search(answer.text), answer.url


def test_v3_4_3_api_answers_forbid_any_rendering(client: TestClient, session: Session, clinic: ClinicSetup) -> None:
    _, tokens = active_patient(session, clinic)
    for path in ("/api/v1/me", "/api/v1/checkins", "/api/openapi.json", "/api/v1/nothing-here"):
        answer = client.get(path, headers=bearer(tokens))
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_v3_4_1_hsts_on_both_faces_when_served_over_https(app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as plain:
        assert "strict-transport-security" not in plain.get("/api/v1/me").headers
        assert "strict-transport-security" not in plain.get("/portal/login").headers
    monkeypatch.setenv("TANDEM_BASE_URL", "https://tandem.example.org")
    get_settings.cache_clear()
    with TestClient(app, base_url="https://tandem.example.org") as secure:
        for path in ("/api/v1/me", "/portal/login"):
            assert "max-age=31536000" in secure.get(path).headers["strict-transport-security"]
    get_settings.cache_clear()


def test_v14_3_2_no_page_with_patient_data_is_stored(
    app, portal: Portal, clinic: ClinicSetup, session: Session, patient: Patient
) -> None:  # type: ignore[no-untyped-def]
    alert = raise_alert(session, patient)
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    pages = [path for path in _portal_routes(app, "GET") if "{" not in path or "{patient_id}" in path]
    pages += ["/alerts/{alert_id}"]
    for path in pages:
        if "summaries/{summary_id}" in path or path.endswith("/stream"):
            continue  # no stored summary here (see test_portal_exports); the live feed never ends
        url = "/portal" + path.format(patient_id=patient.id, alert_id=alert.id)
        answer = portal.get(url)
        assert answer.headers["cache-control"] == "no-store", (url, answer.headers.get("cache-control"))
    assert csrf_of(portal.get("/portal/").text)


def test_v13_metrics_only_for_configured_networks_or_the_token(app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, client=("203.0.113.9", 40000)) as outsider:
        assert outsider.get("/metrics").status_code == 404
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert "tandem_http_requests_total" in local.get("/metrics").text
    monkeypatch.setenv("TANDEM_METRICS_TOKEN", "scrape-token-0123456789")
    monkeypatch.setenv("TANDEM_METRICS_ALLOWED_NETWORKS", "10.1.0.0/16")
    get_settings.cache_clear()
    with TestClient(app, client=("203.0.113.9", 40000)) as scraper:
        assert scraper.get("/metrics").status_code == 404
        wrong = scraper.get("/metrics", headers={"Authorization": "Bearer not-it"})
        assert wrong.status_code == 404
        right = scraper.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
        assert right.status_code == 200
    with TestClient(app, client=("10.1.4.2", 40000)) as in_cluster:
        assert in_cluster.get("/metrics").status_code == 200
    get_settings.cache_clear()
