"""Issue 13 done, in a real headless Chromium against the app `tandem serve` runs, scheduler included,
behind a real HTTP server: the strongest words
lead the queue, the assignee hears by Web Push (a loopback RFC 8030 push service; the message
decrypted per RFC 8291) and by email (loopback SMTP), the rota's on-call clinician is told at the
deadline and the row reads "overdue … escalated to <name>", the crisis block carries the client's
safety plan, the PDF quotes the alert's words, and with SMTP stopped the admin banner appears and
nothing is lost once it comes back.

The server runs in this process (tests/portal/live.py): what is tested is what the browser, the push
service and the mailbox meet, not the process, whose start-up alone took 10 s of this test's 50
(`tandem serve` as a process has its own tests: tests/test_contract_accounts.py, tests/portal/test_live_alerts.py)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from service.alerts import escalation, oncall
from service.models import Alert, CheckIn, OutboxMessage, OutboxStatus
from service.models.base import utcnow
from service.onboarding.staff import add_staff
from tests.factories import CLIENT_PASSWORD, SYSTEM, active_patient, create_clinic
from tests.notify.test_web_push import Browser
from tests.portal.live import serving_configured
from tests.portal.test_browser import Tab, _shot, tab  # noqa: F401  (tab is a fixture)
from tests.summaries.reading import pdf_text
from tests.support.push_service import push_service

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow(seconds=25),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

GOODBYE = "I've written my goodbye letters"
LATER = "sometimes I feel like everyone would be better off without me"


def _client(base: str, email: str) -> dict[str, str]:
    answer = httpx.post(f"{base}/api/v1/auth/token", json={"email": email, "password": CLIENT_PASSWORD}, timeout=10)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _wait(check, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _sign_in(page, base: str, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    # Leave the previous page first: its live feed, reconnecting after the cookies are cleared, could
    # otherwise be given a new session cookie after the sign-in form's token was issued (a 403).
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto(f"{base}/portal/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/portal/login'] button[type=submit]")
    page.wait_for_url(f"{base}/portal/")


def test_issue_13_done_when(database_url: str, session: Session, tab: Tab, tmp_path: Path, mailbox) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    setup = create_clinic(session, name="Riverside Clinic", timezone="Europe/London", country="GB")
    dana = add_staff(
        session,
        clinic=setup.clinic,
        email="dana@riverside.example.org",
        name="Dana Oncall",
        role="clinician",
        actor=SYSTEM,
    ).staff
    local_now = utcnow().astimezone(ZoneInfo("Europe/London")).replace(tzinfo=None)
    oncall.add_shift(
        session,
        admin=setup.admin,
        staff_id=dana.id,
        starts_local=local_now - timedelta(hours=1),
        ends_local=local_now + timedelta(hours=12),
    )
    zoe, _ = active_patient(session, setup, name="Zoé Zimmer", email="zoe@example.org")
    sam, _ = active_patient(session, setup, name="Sam Okafor", email="sam@example.org")
    page = tab.page
    # The app's scheduler delivers the pushes and escalations this test waits for.
    with push_service() as pushes, serving_configured(TANDEM_SCHEDULER_ENABLED="true") as base:
        # The assignee turns on push notifications: the portal stores this browser's subscription.
        chris_browser = Browser(f"{pushes.base}/push/chris")
        keys = chris_browser.subscription()["keys"]
        _sign_in(page, base, setup.clinician.email, setup.clinician_password)
        page.goto(f"{base}/portal/account")
        csrf = page.locator("form.push-form input[name=csrf_token]").get_attribute("value")
        stored = page.request.post(
            f"{base}/portal/account/push",
            form={
                "csrf_token": csrf,
                "endpoint": chris_browser.endpoint,
                "p256dh": keys["p256dh"],
                "auth": keys["auth"],
            },  # type: ignore[index]
        )
        assert stored.ok
        page.reload()
        expect(page.locator("main")).to_contain_text("1 browser receives your push notifications.")

        # The client has a safety plan; a high-risk check-in, then a low-risk one.
        zoe_headers = _client(base, "zoe@example.org")
        plan = {"sections": [{"code": "people_to_ask", "items": ["My sister Lou 07700 900123"]}]}
        assert httpx.put(f"{base}/api/v1/safety-plan", json=plan, headers=zoe_headers, timeout=10).status_code == 200
        page.goto(f"{base}/portal/alerts")
        page.wait_for_timeout(500)  # the live feed is open
        title_before = page.title()
        high = httpx.post(f"{base}/api/v1/checkins", json={"mood": 2, "note": GOODBYE}, headers=zoe_headers, timeout=20)
        # The live banner names the patient and the severity; the tab's title and icon change.
        expect(page.locator("#live-notice")).to_contain_text("New urgent alert: Zoé Zimmer", timeout=15_000)
        expect(page).to_have_title(f"(1) Urgent alert · {title_before}")
        assert "favicon-urgent.svg" in (page.locator("link[rel='icon']").get_attribute("href") or "")
        assert high.status_code == 201 and high.json()["risk"]["level"] == "high"
        crisis = high.json()["crisis"]
        assert crisis["safety_plan"]["sections"][0]["items"] == ["My sister Lou 07700 900123"]
        # The goodbye was written four days ago: outside the 72 hours read with the next note (a goodbye
        # and a wish to be dead in one exchange are high together, tests/alerts/test_exchange.py).
        for written in session.exec(select(CheckIn).where(CheckIn.id == high.json()["id"])).all():
            written.recorded_at -= timedelta(days=4)
            session.add(written)
        session.commit()
        low = httpx.post(f"{base}/api/v1/checkins", json={"mood": 4, "note": LATER}, headers=zoe_headers, timeout=20)
        assert low.json()["risk"]["level"] == "low"

        page.goto(f"{base}/portal/alerts")
        row = page.locator("#alert-rows tr[data-alert-id]", has_text="Zoé Zimmer")
        expect(row).to_contain_text("goodbye letters")
        expect(row).not_to_contain_text("better off without me")
        expect(row).to_contain_text("1 more signal")
        _shot(page, tmp_path, "issue13-queue-strongest-first")

        # Push and email both reach the assignee (the server's scheduler delivers the outbox).
        _wait(lambda: len(pushes.received) >= 1)
        pushed = chris_browser.decrypt(pushes.received[0].body)
        alert_id = row.get_attribute("data-alert-id")
        assert pushed["url"] == f"/portal/alerts/{alert_id}" and "Urgent" in str(pushed["title"])
        mails = mailbox.wait_for(1, timeout=30)
        assert any(m["To"] == setup.clinician.email and "Urgent" in m["Subject"] for m in mails)

        # Nobody acknowledges: at the deadline the rota's on-call clinician is told.
        session.expire_all()
        alert = session.get(Alert, alert_id)
        assert alert is not None
        assert escalation.escalate_due(session, now=alert.ack_deadline_at) == [alert_id]
        _wait(lambda: any(m["To"] == dana.email for m in mailbox.messages))
        page.goto(f"{base}/portal/alerts")
        overdue = page.locator(f"#alert-rows tr[data-alert-id='{alert_id}'] .deadline.overdue")
        expect(overdue).to_contain_text("Overdue by")
        expect(overdue).to_contain_text("escalated to Dana Oncall")
        _shot(page, tmp_path, "issue13-escalated")

        # The PDF summary quotes the words that raised the alert.
        pdf = page.request.get(f"{base}/portal/patients/{zoe.id}/summary.pdf?days=28")
        assert pdf.status == 200 and "goodbye letters" in " ".join(pdf_text(pdf.body(), layout=False).split())

        # SMTP stops: the admin sees the banner; nothing is lost once it comes back.
        mailbox.stop()
        sam_headers = _client(base, "sam@example.org")
        httpx.post(f"{base}/api/v1/checkins", json={"mood": 1, "note": GOODBYE}, headers=sam_headers, timeout=20)
        session.expire_all()
        sam_alert = session.exec(select(Alert).where(Alert.patient_id == sam.id)).one()
        _sign_in(page, base, setup.admin.email, setup.admin_password)
        banner = page.locator(".delivery-banner")
        _wait(lambda: (page.reload() or True) and banner.count() == 1, timeout=40)
        expect(banner).to_contain_text("emails cannot be delivered")
        page.goto(f"{base}/portal/alerts/{sam_alert.id}")
        expect(page.locator("#deliveries")).to_contain_text("Failing; next try")
        _shot(page, tmp_path, "issue13-smtp-down-banner")
        before = len(mailbox.messages)
        mailbox.restart()
        # Its retry comes due now rather than after the first back-off (15 s): how long the outbox waits
        # between tries is tests/notify/test_outbox.py's subject; here, that the next try delivers it.
        session.expire_all()
        waiting = session.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)).all()
        assert waiting  # the failed email is still there, waiting for its retry
        for message in waiting:
            message.next_attempt_at = utcnow()
            session.add(message)
        session.commit()
        _wait(lambda: any(m["To"] == setup.clinician.email for m in mailbox.messages[before:]), timeout=60)
        page.goto(f"{base}/portal/alerts")
        _wait(lambda: (page.reload() or True) and banner.count() == 0, timeout=30)
        ids = [(m["To"], m["Message-ID"]) for m in mailbox.messages]
        assert len(ids) == len(set(ids))  # nothing sent twice to one recipient
    assert tab.problems == []
