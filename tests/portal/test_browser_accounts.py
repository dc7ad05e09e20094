"""Staff accounts and clinic settings in a real headless Chromium against a real `tandem serve`: a
forgotten password reset from the email the loopback SMTP server received, and every new page
axe-clean (no serious or critical violation) and without horizontal overflow at 390 px and 1440 px,
in English and in French."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from service import notify
from service.onboarding import password_reset
from tests.factories import create_clinic
from tests.portal.layout import AXE, axe_violations, preload_axe
from tests.portal.test_browser import Tab, _shot, serving_portal, tab  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

NEW_PASSWORD = "copper-lagoon-thistle-91"
LINK = re.compile(r"(http\S+/portal/password-reset/new\?token=\S+)")
WIDTHS = (390, 1440)


def _sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/portal/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/portal/login'] button[type=submit]")
    page.wait_for_url(f"{base}/portal/")


def _emailed_link(mailbox) -> str:  # type: ignore[no-untyped-def]
    notify.deliver_due()
    messages = mailbox.wait_for(1)
    assert len(messages) == 1
    found = LINK.search(messages[0].get_body(preferencelist=("plain",)).get_content())
    assert found
    return found.group(1)


def test_a_clinician_resets_a_forgotten_password_from_the_emailed_link(
    database_url: str,
    session: Session,
    tab: Tab,  # noqa: F811
    tmp_path: Path,
    mailbox,
) -> None:  # type: ignore[no-untyped-def]
    setup = create_clinic(session, name="Riverside Clinic", timezone="Europe/London", country="GB")
    page = tab.page
    with serving_portal() as base:
        # Signed in on another device: that session ends when the password is reset.
        other = page.context.browser.new_context()  # type: ignore[union-attr]
        elsewhere = other.new_page()
        _sign_in(elsewhere, base, setup.clinician.email, setup.clinician_password)

        page.goto(f"{base}/portal/login")
        page.get_by_role("link", name="Forgot your password?").click()
        page.get_by_label("Email").fill(setup.clinician.email)
        page.get_by_role("button", name="Send the link").click()
        expect(page.get_by_role("status")).to_contain_text("If this address belongs to a staff account")
        link = _emailed_link(mailbox)
        assert link.startswith(f"{base}/portal/password-reset/new?token=")

        page.goto(link)
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password, again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Save the new password").click()
        page.wait_for_url(f"{base}/portal/login?reset=1")
        expect(page.get_by_role("status")).to_contain_text("Your new password is saved")
        _shot(page, tmp_path, "after-reset")

        page.goto(link)  # the link works once
        expect(page.get_by_role("alert")).to_contain_text("invalid, already used or expired")

        _sign_in(page, base, setup.clinician.email, NEW_PASSWORD)
        expect(page.locator("h1")).to_have_text("My caseload")
        elsewhere.goto(f"{base}/portal/")
        assert elsewhere.url.startswith(f"{base}/portal/login")  # signed out there
        other.close()
    # The spent link answers 410 Gone (the browser logs that status too); nothing else went wrong.
    assert [p for p in tab.problems if not p.startswith(link)] == []


@pytest.fixture
def browser(chromium: Browser) -> Browser:
    """The worker's Chromium; each width below opens its own context."""
    return chromium


def _check(page: Page, name: str, found: list[str]) -> None:
    """No horizontal overflow at this width, and no serious or critical axe violation."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll > inner:
        found.append(f"{name} @ {width}px: scrollWidth {scroll} > innerWidth {inner}")
    found += [f"{name} @ {width}px: {violation}" for violation in axe_violations(page)]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("width", WIDTHS)  # one test per width, so that two workers share them
def test_account_settings_and_reset_pages_are_accessible_and_fit_a_phone_and_a_desktop(
    database_url: str, session: Session, browser: Browser, language: str, width: int, mailbox
) -> None:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        pytest.fail("axe-core is missing; run `npm ci` (make test does)")
    setup = create_clinic(session, name="Centre Tandem Lyon", locale=language, timezone="Europe/Paris", country="FR")
    found: list[str] = []
    password_reset.request_staff_reset(session, email=setup.clinician.email)
    token = _emailed_link(mailbox).split("token=")[1]
    with serving_portal() as base:
        # axe is injected as a script, which the portal's CSP rightly refuses: this context bypasses it.
        context = browser.new_context(
            viewport={"width": width, "height": 900},
            locale="fr-FR" if language == "fr" else "en-GB",
            bypass_csp=True,
        )
        context.set_default_timeout(15_000)
        page = preload_axe(context).new_page()
        for path in (
            "/portal/password-reset",
            "/portal/password-reset?sent=1",
            "/portal/password-reset/new?token=x",
        ):
            page.goto(base + path)
            expect(page.locator("html")).to_have_attribute("lang", language)
            _check(page, path, found)
        page.goto(f"{base}/portal/password-reset/new?token={token}")
        expect(page.locator("#new_password")).to_be_visible()
        _check(page, "the emailed link's form", found)
        _sign_in(page, base, setup.admin.email, setup.admin_password)
        for path in ("/portal/account", "/portal/clinic/settings", "/portal/staff"):
            page.goto(base + path)
            expect(page.locator("html")).to_have_attribute("lang", language)
            _check(page, path, found)
        # The settings form given back with errors.
        page.goto(f"{base}/portal/clinic/settings")
        page.fill("#deadline_urgent", "1")
        page.fill("#retention_years", "0")
        page.locator("form.settings-form button[type=submit]").click()
        expect(page.locator("[aria-invalid=true]")).to_have_count(2)
        _check(page, "settings with errors", found)
        # Setting up an authenticator, then its recovery codes.
        page.goto(f"{base}/portal/account")
        page.locator("form[action$='/account/authenticator'] button").click()
        page.wait_for_url(f"{base}/portal/account/authenticator")
        _check(page, "/portal/account/authenticator", found)
        secret = page.inner_text("#totp-secret").strip()
        page.fill("#totp", pyotp.TOTP(secret).now())
        page.locator("form[action$='/authenticator/confirm'] button").click()
        expect(page.locator("#recovery-codes li")).to_have_count(10)
        _check(page, "recovery codes", found)
        context.close()
    assert found == []
