"""A page left alone warns two minutes before the idle timeout and lets the clinician stay signed in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from tests.factories import create_clinic
from tests.portal.test_browser import Tab, serving_portal, tab  # noqa: F401  (tab is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def test_the_idle_warning_comes_before_the_timeout_and_stay_signed_in_keeps_the_session(
    database_url: str,
    session: Session,
    tab: Tab,  # noqa: F811
) -> None:
    setup = create_clinic(session, name="Idle Clinic")
    page = tab.page
    # A two-minute idle timeout: the warning comes at once (five seconds), two minutes before it.
    with serving_portal(TANDEM_PORTAL_IDLE_TIMEOUT_MINUTES="2") as base:
        page.goto(f"{base}/portal/login")
        page.fill("#email", setup.clinician.email)
        page.fill("#password", setup.clinician_password)
        page.click("form[action='/portal/login'] button[type=submit]")
        page.wait_for_url(f"{base}/portal/")
        page.goto(f"{base}/portal/alerts")
        warning = page.locator("#idle-warning")
        expect(warning).to_be_hidden()
        expect(warning).to_be_visible(timeout=15_000)
        expect(warning).to_contain_text("You will be signed out in 2 minutes")
        with page.expect_response(lambda r: r.url.endswith("/portal/session/keepalive")) as answer:
            page.click("[data-stay-signed-in]")
        assert answer.value.status == 204
        expect(warning).to_be_hidden()
    assert tab.problems == []
