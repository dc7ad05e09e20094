"""Property-based fuzzing of the portal's forms and filters (Hypothesis): whatever a browser, a
script or an attacker posts, with this browser's CSRF token, no answer is a 5xx.

Values are text or raw bytes, percent-encoded as a form would be (so NUL, control characters and
invalid UTF-8 arrive as they would over the wire). Derandomized and bounded."""

from __future__ import annotations

from urllib.parse import quote_from_bytes

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from service.db import unit_of_work
from service.onboarding.profile import open_request
from tests.factories import ClinicSetup, active_patient
from tests.portal.clinical import raise_alert
from tests.portal.conftest import Portal, csrf_of

EXAMPLES = 15
BOUNDED = settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)

# Values: plain text, text with any code point (lone surrogates included), raw bytes, dates and numbers.
VALUES = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec=None), max_size=20).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=30),
    st.sampled_from(["", "0", "-1", "9999999999", "0001-01-01", "9999-12-31T23:59", "2026-03-14T09:30", "NaN"]),
    st.sampled_from(["called_client", "other", "grounding", "clinician", "admin", "fr", "en", "Europe/Paris", "FR"]),
)

FORMS = {
    "/portal/login": ["email", "password", "totp", "next"],
    "/portal/patients": [
        "display_name",
        "locale",
        "timezone",
        "country",
        "clinician_id",
        "date_of_birth",
        "phone",
        "contact_email",
        "enrolment_key",
        "confirm_duplicate",
    ],
    "/portal/patients/{patient_id}/contact": [
        "date_of_birth",
        "phone",
        "contact_email",
        "contact_times",
        "emergency_name",
        "emergency_relation",
        "emergency_phone",
    ],
    "/portal/patients/{patient_id}/discharge": ["reason"],
    "/portal/erasure/{request_id}/keep": ["reason"],
    "/portal/erasure/{request_id}/carry-out": ["confirm"],
    "/portal/patients/{patient_id}/appointment": ["next_appointment", "clear"],
    "/portal/patients/{patient_id}/assignments": [
        "exercise_code",
        "every_days",
        "instructions",
        "starts_on",
        "ends_on",
    ],
    "/portal/patients/{patient_id}/clinician": ["clinician_id"],
    "/portal/alerts/{alert_id}/resolve": ["resolution", "note"],
    "/portal/alerts/{alert_id}/acknowledge": [],
    "/portal/staff": ["name", "email", "role"],
    "/portal/language": ["locale", "next"],
}
PAGES = {
    "/portal/": ["name", "status", "alerts", "measures", "checkins", "exercises", "sort"],
    "/portal/audit": ["actor", "patient", "action", "since", "until", "page"],
    "/portal/alerts/resolved": ["page", "days"],
    "/portal/login": ["next", "ended", "signed_out"],
    "/portal/patients/{patient_id}": ["saved", "error"],
    "/portal/patients/{patient_id}/invitation": ["created"],
    "/portal/erasure": ["saved"],
}


def _encode(value: str | bytes) -> str:
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return quote_from_bytes(raw, safe="")


@pytest.fixture
def admin_browser(client: TestClient, session: Session, clinic: ClinicSetup) -> tuple[Portal, dict[str, str]]:
    patient, _ = active_patient(session, clinic)
    alert = raise_alert(session, patient)
    browser = Portal(client)
    with unit_of_work(session):
        request = open_request(session, patient=patient)
    browser.login_ok(clinic.admin.email, clinic.admin_password)
    return browser, {"patient_id": patient.id, "alert_id": alert.id, "request_id": request.id}


@pytest.mark.parametrize("action", sorted(FORMS))
def test_no_form_answers_5xx(admin_browser: tuple[Portal, dict[str, str]], action: str) -> None:
    browser, ids = admin_browser
    fields = FORMS[action]
    url = action.format(**ids)
    token = csrf_of(browser.client.get("/portal/").text)  # a signed-in browser's token lasts its session

    @BOUNDED
    @given(
        values=st.fixed_dictionaries({name: VALUES for name in fields}),
        extra=st.dictionaries(VALUES, VALUES, max_size=2),
    )
    def post(values: dict[str, str | bytes], extra: dict[str | bytes, str | bytes]) -> None:
        pairs = [(_encode(k), _encode(v)) for k, v in [*values.items(), *extra.items()]]
        body = "&".join(f"{k}={v}" for k, v in [*pairs, ("csrf_token", token)])
        answer = browser.client.post(
            url,
            content=body.encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        assert answer.status_code < 500, (url, answer.status_code)

    post()


@pytest.mark.parametrize("path", sorted(PAGES))
def test_no_page_filter_answers_5xx(admin_browser: tuple[Portal, dict[str, str]], path: str) -> None:
    browser, ids = admin_browser
    url = path.format(**ids)

    @BOUNDED
    @given(values=st.fixed_dictionaries({name: VALUES for name in PAGES[path]}))
    def get(values: dict[str, str | bytes]) -> None:
        query = "&".join(f"{name}={_encode(value)}" for name, value in values.items())
        answer = browser.client.get(f"{url}?{query}", follow_redirects=False)
        assert answer.status_code < 500, (url, answer.status_code)

    get()


@pytest.fixture
def clinic(session: Session) -> ClinicSetup:
    from tests.factories import create_clinic

    return create_clinic(session)
