"""The add-patient form in a real Chromium against `tandem serve`: a double click enrols one patient,
the code is shown once after the redirect, a possible duplicate asks before enrolling, and the
patient's contact details are callable from the alert page. axe-core finds no serious violation."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser
from sqlmodel import Session, select

from service import caseload
from service.models import Patient
from tests.factories import active_patient, create_clinic
from tests.portal.clinical import raise_alert
from tests.portal.layout import AXE, axe_violations
from tests.portal.test_browser import Tab, serving_portal

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture
def tab(chromium: Browser) -> Iterator[Tab]:
    """A fresh context of the worker's Chromium with the page's CSP bypassed, so that axe-core can be injected."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB", bypass_csp=True)
    try:
        opened = Tab(context.new_page())
        opened.page.set_default_timeout(20_000)
        opened.page.on("pageerror", lambda error: opened.problems.append(f"{opened.page.url}: {error}"))
        opened.page.on(
            "response",
            lambda answer: opened.problems.append(f"{answer.url}: {answer.status}") if answer.status >= 400 else None,
        )
        yield opened
    finally:
        context.close()


def _serious_violations(opened: Tab, screen: str) -> list[str]:
    if not AXE.exists():
        pytest.fail("axe-core is missing; run `npm ci` (make test does)")
    return [f"{screen}: {violation}" for violation in axe_violations(opened.page)]


def _patients_named(session: Session, name: str) -> list[Patient]:
    session.expire_all()
    return [p for p in session.exec(select(Patient)).all() if p.display_name == name]


def test_a_double_click_on_add_patient_enrols_one_patient(
    database_url: str, session: Session, tab: Tab, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = create_clinic(session, name="Harbour Clinic")
    caller, _ = active_patient(session, setup, name="Ola Nordmann", email="ola@example.org")
    page = tab.page
    found: list[str] = []
    with serving_portal() as base:
        page.goto(f"{base}/portal/login")
        page.fill("#email", setup.clinician.email)
        page.fill("#password", setup.clinician_password)
        page.click("form[action='/portal/login'] button[type=submit]")
        page.wait_for_url(f"{base}/portal/")

        page.goto(f"{base}/portal/patients/new")
        found += _serious_violations(tab, "add patient")
        page.fill("#display_name", "Noor Haddad")
        page.fill("#date_of_birth", "1990-05-17")
        page.fill("#phone", "617 555 0123")
        posts: list[str] = []
        page.on(
            "request",
            lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/portal/patients") else None,
        )
        # The first answer takes a moment to come back, as on a slow network, so the second press surely
        # comes while it is on its way, after the first enrolment is written (a server on this machine can
        # answer within a few tens of ms; a loaded one can take longer than that to write it).
        enrol = caseload.enrol_patient
        calls = itertools.count()

        def slow_first_answer(*args, **kwargs):  # type: ignore[no-untyped-def]
            issued = enrol(*args, **kwargs)
            if next(calls) == 0:
                time.sleep(1.5)
            return issued

        monkeypatch.setattr(caseload, "enrol_patient", slow_first_answer)
        # A second press while the first submission is on its way (an impatient double click): the
        # browser sends the form twice, and follows the second answer.
        page.evaluate(
            """() => {
                const button = document.querySelector("form[action='/portal/patients'] button[type=submit]");
                button.click();
                setTimeout(() => button.click(), 300);
            }"""
        )
        page.wait_for_selector("#invite-code")  # the first navigation is abandoned for the second
        assert "/invitation" in page.url and "is enrolled" in page.inner_text("h1")
        code = page.inner_text("#invite-code")
        assert len(code) == 14
        assert len(posts) == 2, posts  # the browser did send the form twice
        assert len(_patients_named(session, "Noor Haddad")) == 1
        # Reloading the page neither enrols again nor shows the code again.
        page.reload()
        assert code not in page.content() and len(_patients_named(session, "Noor Haddad")) == 1

        # The same person again, from a fresh form: a warning, not a second patient.
        page.goto(f"{base}/portal/patients/new")
        page.fill("#display_name", "Noor Haddad")
        page.fill("#date_of_birth", "1990-05-17")
        page.click("form[action='/portal/patients'] button[type=submit]")
        page.wait_for_selector("#duplicates")
        assert "same name and date of birth" in page.inner_text("#duplicates")
        found += _serious_violations(tab, "duplicate warning")
        assert len(_patients_named(session, "Noor Haddad")) == 1

        # Contact details on the patient page, then a tel: link on the alert page.
        page.goto(f"{base}/portal/patients/{caller.id}")
        page.click("#contact summary")
        page.fill("#contact-phone", "617 555 0177")
        page.fill("#emergency-name", "Kari Nordmann")
        page.fill("#emergency-phone", "617 555 0188")
        page.click("form[action$='/contact'] button[type=submit]")
        page.wait_for_url(f"{base}/portal/patients/{caller.id}?saved=contact")
        found += _serious_violations(tab, "patient page")
        alert = raise_alert(session, caller)
        page.goto(f"{base}/portal/alerts/{alert.id}")
        assert page.locator('a[href="tel:+16175550177"]').count() == 1
        assert page.locator('a[href="tel:+16175550188"]').count() == 1
        found += _serious_violations(tab, "alert page")
    assert found == []
    assert [p for p in tab.problems if "/portal/patients" in p and ": 409" not in p] == []
