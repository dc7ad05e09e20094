"""The portal in a real headless Chromium, against the service on a real HTTP server: password and SSO
sign-in."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from sqlmodel import Session

from service.models.base import utcnow
from tests.factories import ClinicSetup, active_patient, create_clinic, invite_patient
from tests.portal.conftest import reload
from tests.portal.live import serving_configured
from tests.portal.oidc_provider import User, running_provider

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def serving_portal(**env: str) -> AbstractContextManager[str]:
    """The service on a free port whose public address (TANDEM_BASE_URL) is that port, served by uvicorn
    in this process: these tests are about pages, and `tandem serve` as a process has its own tests
    (tests/test_contract_accounts.py, tests/portal/test_live_alerts.py, tests/test_readme_commands.py)."""
    return serving_configured(**env)


@dataclass
class Tab:
    page: Page
    problems: list[str] = field(default_factory=list)  # "url: what went wrong"


@pytest.fixture
def tab(chromium: Browser) -> Iterator[Tab]:
    """A fresh context (a new profile: no cookies, no storage) in the worker's Chromium."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    try:
        opened = Tab(context.new_page())
        opened.page.set_default_timeout(15_000)
        problems = opened.problems
        opened.page.on(
            "console",
            lambda message: (
                problems.append(f"{message.location.get('url')}: {message.text}") if message.type == "error" else None
            ),
        )
        opened.page.on("pageerror", lambda error: problems.append(f"{opened.page.url}: {error}"))
        opened.page.on(
            "response",
            lambda answer: problems.append(f"{answer.url}: {answer.status}") if answer.status >= 400 else None,
        )
        yield opened
    finally:
        context.close()


def _shot(page: Page, tmp_path: Path, name: str) -> Path:
    """Save a screenshot; copied to $TANDEM_SCREENSHOTS when set, for a person to look at."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    target = os.environ.get("TANDEM_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)
    return path


def _populate(session: Session, setup: ClinicSetup) -> None:
    invite_patient(session, setup, name="Zoé Zimmer")
    for index, name in enumerate(["Amélie Adam", "Jordan Lee", "Riley Evans"]):
        patient, _ = active_patient(session, setup, name=name, email=f"p{index}@example.org")
        row = reload(session, patient)
        row.next_appointment_at = utcnow() + timedelta(days=index + 2, hours=3)
        session.add(row)
        session.commit()
    invite_patient(session, setup, name="Sam Okafor", locale="fr")


def test_a_clinician_signs_in_with_a_password_and_works_on_a_patient(
    database_url: str,
    session: Session,
    tab: Tab,
    tmp_path: Path,
) -> None:
    setup = create_clinic(session, name="Riverside Clinic", timezone="Europe/London", country="GB")
    _populate(session, setup)
    page = tab.page
    with serving_portal() as base:
        page.goto(f"{base}/portal/")
        assert page.url.startswith(f"{base}/portal/login")
        _shot(page, tmp_path, "login")
        page.fill("#email", setup.clinician.email)
        page.fill("#password", setup.clinician_password)
        page.click("form[action='/portal/login'] button[type=submit]")
        page.wait_for_url(f"{base}/portal/")
        assert page.inner_text("h1") == "My caseload"
        assert page.locator("table.caseload tbody tr").count() == 5
        _shot(page, tmp_path, "caseload")

        page.fill("#filter-name", "zoe")
        page.click("form.filters button[type=submit]")
        assert page.locator("table.caseload tbody tr").count() == 1

        page.click("text=Zoé Zimmer")
        page.wait_for_selector("h1:has-text('Zoé Zimmer')")
        next_year = utcnow().year + 1
        page.fill("#next_appointment", f"{next_year}-03-02T10:15")
        page.click("#appointment-title ~ form button[type=submit]:not([name])")
        page.wait_for_selector("text=The next appointment is saved.")
        assert f"2 March {next_year}" in page.inner_text("main")  # a London clinic writes dates the British way
        _shot(page, tmp_path, "patient")

        page.set_viewport_size({"width": 820, "height": 1180})  # a tablet held upright
        _shot(page, tmp_path, "patient-tablet")
        page.set_viewport_size({"width": 1366, "height": 900})

        page.click(".main-nav >> text=Caseload")
        page.click("text=Add a patient")
        page.fill("#display_name", "Élodie Marchand")
        page.select_option("#locale", "fr")
        page.select_option("#timezone", "Europe/Paris")
        page.select_option("#country", "FR")
        page.click("form[action='/portal/patients'] button[type=submit]")
        page.wait_for_selector("#invite-code")
        code = page.inner_text("#invite-code")
        assert len(code) == 14 and code in page.inner_text("article.letter")
        assert "Votre invitation à Tandem" in page.inner_text("article.letter")
        _shot(page, tmp_path, "invitation")

        page.click("text=Sign out")
        page.wait_for_selector("text=You are signed out.")
    assert tab.problems == []  # no failed loads, script errors or Content-Security-Policy violations


def test_a_clinician_signs_in_with_single_sign_on(
    database_url: str,
    session: Session,
    tab: Tab,
    tmp_path: Path,
) -> None:
    setup = create_clinic(session, name="Riverside Clinic", timezone="Europe/London", country="GB")
    _populate(session, setup)
    user = User(sub="idp-chris-42", claims={"email": setup.clinician.email, "email_verified": True})
    page = tab.page
    with (
        running_provider([user]) as provider,
        serving_portal(
            TANDEM_OIDC_ISSUER=provider.issuer,
            TANDEM_OIDC_CLIENT_ID="tandem-browser-test",
            TANDEM_OIDC_CLIENT_SECRET="browser-test-secret",
        ) as base,
    ):
        page.goto(f"{base}/portal/login")
        page.click("text=Sign in with single sign-on")
        page.wait_for_url(f"{provider.issuer}/oauth2/authorize*")
        page.click("button[name=sub][value='idp-chris-42']")
        page.wait_for_url(f"{base}/portal/")
        assert page.inner_text("h1") == "My caseload"
        assert "Chris Clinician" in page.inner_text("header")
        _shot(page, tmp_path, "caseload-after-sso")
    staff = reload(session, setup.clinician)
    assert (staff.oidc_issuer, staff.oidc_subject) == (provider.issuer, "idp-chris-42")
    assert provider.pkce.refused_token_requests == 0
    assert [problem for problem in tab.problems if problem.startswith(base)] == []
