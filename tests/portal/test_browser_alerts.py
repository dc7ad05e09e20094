"""Issue 6 done, in a real headless Chromium against a real `tandem serve`: a clinician signs in,
watches a new urgent alert arrive live on the queue, acknowledges and resolves it, opens the
patient (charts, notes, answers), assigns an exercise, and finds the PDF summary."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from service.demo.history import seed_history
from tests.factories import CLIENT_PASSWORD, active_patient, create_clinic, invite_patient
from tests.portal.test_browser import Tab, _shot, serving_portal, tab  # noqa: F401  (tab is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

GOODBYE = "I've written my goodbye letters"


def _client_headers(base: str, email: str) -> dict[str, str]:
    answer = httpx.post(f"{base}/api/v1/auth/token", json={"email": email, "password": CLIENT_PASSWORD}, timeout=10)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_a_clinician_sees_an_urgent_alert_arrive_live_acts_on_it_and_assigns_an_exercise(
    database_url: str,
    session: Session,
    tab: Tab,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    setup = create_clinic(session, name="Riverside Clinic", timezone="Europe/London", country="GB")
    zoe, _ = active_patient(session, setup, name="Zoé Zimmer", email="zoe@example.org")
    seed_history(session, zoe, "improving", seed=11)
    for index, (name, trajectory) in enumerate([("Amélie Adam", "stable"), ("Jordan Lee", "deteriorating")]):
        patient, _ = active_patient(session, setup, name=name, email=f"p{index}@example.org")
        seed_history(session, patient, trajectory, seed=index)
    invite_patient(session, setup, name="Sam Okafor", locale="fr")
    page = tab.page
    with serving_portal() as base:
        page.goto(f"{base}/portal/login")
        page.fill("#email", setup.clinician.email)
        page.fill("#password", setup.clinician_password)
        page.click("form[action='/portal/login'] button[type=submit]")
        page.wait_for_url(f"{base}/portal/")
        expect(page.locator("table.caseload tbody tr")).to_have_count(4)
        expect(page.locator("table.caseload svg.sparkline")).to_have_count(3)
        _shot(page, tmp_path, "caseload-figures")

        page.click(".main-nav a[href='/portal/alerts']")
        page.wait_for_url(f"{base}/portal/alerts")
        before = page.locator("#alert-rows tr[data-alert-id]").count()
        page.wait_for_timeout(500)  # the page's live feed is open (its first comment arrives at once)

        # The patient writes, from their app, to the same server; the page is not reloaded.
        checkin = httpx.post(
            f"{base}/api/v1/checkins",
            json={"mood": 2, "note": GOODBYE},
            headers=_client_headers(base, "zoe@example.org"),
            timeout=20,
        )
        assert checkin.status_code == 201 and checkin.json()["risk"]["level"] == "high"
        arrived = page.locator("#alert-rows tr.arrived[data-severity='urgent']")
        expect(arrived).to_contain_text("Zoé Zimmer", timeout=15_000)
        expect(arrived).to_contain_text("goodbye letters")
        expect(page.locator("#live-notice")).to_be_visible()
        expect(page.locator("#live-notice")).to_contain_text("New urgent alert")
        expect(page.locator("#live-notice")).to_have_attribute("aria-live", "assertive")
        expect(page.locator("#alert-rows tr[data-alert-id]")).to_have_count(before + 1)
        expect(page.locator(".main-nav [data-badge-count]")).to_have_text(str(before + 1))
        _shot(page, tmp_path, "alert-queue-live")

        arrived.locator("th a").click()
        page.wait_for_selector("h1:has-text('Suicide risk')")
        page.click("form.acknowledge-form button[type=submit]")
        expect(page.locator("main")).to_contain_text("You acknowledged this alert.")
        page.select_option("#resolution", "called_client")
        page.fill("#note", "Called her; she is safe with her sister tonight.")
        page.click("form.resolve-form button[type=submit]")
        expect(page.locator("main")).to_contain_text("The alert is resolved.")
        expect(page.locator("main")).to_contain_text("Called the patient")
        _shot(page, tmp_path, "alert-resolved")

        page.click("text=Open the patient's page")
        page.wait_for_selector("h1:has-text('Zoé Zimmer')")
        expect(page.locator("#checkins svg.chart")).to_have_count(3)
        expect(page.locator("#questionnaires svg.chart")).to_have_count(2)
        expect(page.locator("#alerts")).to_contain_text("Called the patient")
        summary = page.locator("a[href$='/summary.pdf?days=28']")
        expect(summary).to_have_count(1)
        _shot(page, tmp_path, "patient-charts")

        page.select_option("#exercise_code", "thought_record")
        page.fill("#every_days", "2")
        page.fill("#instructions", "Try it on Monday's meeting.")
        page.click("form.assign-form button[type=submit]")
        expect(page.locator("main")).to_contain_text("The exercise is assigned")
        expect(page.locator("#exercises table.assignments")).to_contain_text("Thought record")
        expect(page.locator("#exercises table.assignments")).to_contain_text("Every 2 days")
        _shot(page, tmp_path, "patient-exercise-assigned")

        # The clinician's own browser session downloads the PDF summary.
        pdf = page.request.get(f"{base}{summary.get_attribute('href')}")
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.body().startswith(b"%PDF")

        page.click(".main-nav a[href='/portal/']")
        expect(page.locator("table.caseload tbody tr", has_text="Zoé Zimmer")).to_contain_text("0 done, 1 due")
        _shot(page, tmp_path, "caseload-after")

        page.set_viewport_size({"width": 820, "height": 1180})  # a tablet held upright
        page.goto(f"{base}/portal/alerts/resolved")
        _shot(page, tmp_path, "alerts-resolved-tablet")
    assert tab.problems == []  # no failed loads, script errors or Content-Security-Policy violations
