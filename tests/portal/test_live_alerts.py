"""The live alert feed (server-sent events): a new alert reaches the open pages of the staff who may
see it, in-process and across replicas, and the feed ends with the session."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from clinician_portal.routes import live
from service.models import Alert
from service.models.base import utcnow
from service.onboarding.staff import add_staff
from tests.factories import CLIENT_PASSWORD, SYSTEM, active_patient, create_clinic
from tests.portal.conftest import actions, csrf_of, sessions_of
from tests.portal.live import (
    EventReader,
    client_tokens,
    post_checkin,
    serving_in_process,
    signed_in_browser,
)
from tests.support.server import TANDEM, free_port, running_server, tandem_env, wait_ready

GOODBYE = "I've written my goodbye letters"
pytestmark = pytest.mark.slow(seconds=5)


@pytest.fixture
def served(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serving_in_process(app) as base:
        yield base


def test_a_new_urgent_alert_reaches_the_open_queue_page(served: str, session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = active_patient(session, setup, name="Zoé Zimmer", email="zoe@example.org")
    browser = signed_in_browser(served, setup.clinician.email, setup.clinician_password)
    with browser.stream("GET", "/portal/alerts/stream") as feed:
        assert feed.status_code == 200
        assert feed.headers["content-type"].startswith("text/event-stream")
        assert feed.headers["cache-control"] == "no-store"
        reader = EventReader(feed)
        reader.wait_connected()
        checkin = post_checkin(served, client_tokens(served, "zoe@example.org", CLIENT_PASSWORD), GOODBYE)
        event = reader.next_event()
    assert event is not None and event.name == "alert"
    assert event.data["kind"] == "alert.created" and event.data["severity"] == "urgent"
    assert event.data["open_total"] == 1 and event.data["open_top"] == "urgent"
    assert event.data["notice"] == "New urgent alert" and event.data["badge_label"] == "1 open alert"
    # Ids, counts and labels only: the patient's words never travel on the feed.
    assert "goodbye" not in str(event.data) and "Zoé" not in str(event.data)

    rows = browser.get("/portal/alerts/rows")
    assert rows.status_code == 200 and rows.headers["cache-control"] == "no-store"
    assert f'data-alert-id="{event.data["alert_id"]}"' in rows.text
    assert "Zoé Zimmer" in rows.text and "goodbye letters" in rows.text
    assert checkin["risk"]["level"] == "high"
    assert "alert.list" in actions(session, patient_id=patient.id)  # the rows are an audited read


def test_a_clinician_hears_nothing_about_another_caseload(served: str, session: Session) -> None:
    setup = create_clinic(session)
    dana = add_staff(
        session,
        clinic=setup.clinic,
        email="dana@test-clinic.example.org",
        name="Dana Doctor",
        role="clinician",
        actor=SYSTEM,
    )
    bruno, _ = active_patient(session, setup, name="Bruno Brun", email="bruno@example.org", clinician=dana.staff)
    zoe, _ = active_patient(session, setup, name="Zoé Zimmer", email="zoe@example.org")
    elsewhere = create_clinic(session, name="Other Clinic")
    active_patient(session, elsewhere, name="Olga Other", email="olga@example.org")
    chris = signed_in_browser(served, setup.clinician.email, setup.clinician_password)
    admin = signed_in_browser(served, setup.admin.email, setup.admin_password)
    with (
        chris.stream("GET", "/portal/alerts/stream") as chris_feed,
        admin.stream("GET", "/portal/alerts/stream") as admin_feed,
    ):
        mine, clinic_wide = EventReader(chris_feed), EventReader(admin_feed)
        mine.wait_connected()
        clinic_wide.wait_connected()
        post_checkin(served, client_tokens(served, "olga@example.org", CLIENT_PASSWORD), GOODBYE)
        post_checkin(served, client_tokens(served, "bruno@example.org", CLIENT_PASSWORD), GOODBYE)
        post_checkin(served, client_tokens(served, "zoe@example.org", CLIENT_PASSWORD), "I want to kill myself")
        first_for_chris = mine.next_event()
        for_admin = [clinic_wide.next_event(), clinic_wide.next_event()]
    alerts = {alert.patient_id: alert.id for alert in session.exec(select(Alert)).all()}
    # Events arrive in commit order: had Bruno's alert reached Chris, it would have come first.
    assert first_for_chris is not None and first_for_chris.data["alert_id"] == alerts[zoe.id]
    assert first_for_chris.data["open_total"] == 1
    # The administrator hears about both alerts of the clinic, once each, and never about Olga's.
    assert [e.data["alert_id"] for e in for_admin if e] == [alerts[bruno.id], alerts[zoe.id]]
    assert for_admin[-1] is not None and for_admin[-1].data["open_total"] == 2
    chris_rows = chris.get("/portal/alerts/rows").text
    assert "Zoé Zimmer" in chris_rows and "Bruno Brun" not in chris_rows and "Olga Other" not in chris_rows


def test_the_feed_ends_when_the_session_ends(served: str, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.3)
    setup = create_clinic(session)
    browser = signed_in_browser(served, setup.clinician.email, setup.clinician_password)
    with browser.stream("GET", "/portal/alerts/stream") as feed:
        reader = EventReader(feed)
        reader.wait_connected()
        home = browser.get("/portal/")
        assert browser.post("/portal/logout", data={"csrf_token": csrf_of(home.text)}).status_code == 303
        ended = reader.next_event()
        assert ended is not None and ended.name == "ended"
        assert ended.data["notice"].startswith("Your session has ended: new alerts no longer appear")
        assert reader.next_event() is None  # and the server closed the stream
    # Signed out, the feed refuses at once with 204, which tells EventSource not to reconnect.
    assert browser.get("/portal/alerts/stream").status_code == 204


def test_heartbeats_keep_a_quiet_feed_open_without_keeping_the_session_alive(
    served: str, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.2)
    setup = create_clinic(session)
    browser = signed_in_browser(served, setup.clinician.email, setup.clinician_password)
    [row] = sessions_of(session, setup.clinician)
    row.last_seen_at = utcnow() - timedelta(minutes=10)
    session.add(row)
    session.commit()
    with browser.stream("GET", "/portal/alerts/stream") as feed:
        reader = EventReader(feed)
        reader.wait_connected()
        for line in reader.lines:
            if line.startswith(": heartbeat"):
                break
    [after] = sessions_of(session, setup.clinician)
    assert after.last_seen_at <= utcnow() - timedelta(minutes=9)  # watching is not activity


def test_a_signed_out_browser_gets_no_feed(client: TestClient) -> None:
    answer = client.get("/portal/alerts/stream")
    assert answer.status_code == 204 and answer.text == ""


def test_an_alert_raised_on_one_replica_reaches_a_page_open_on_another(database_url: str, session: Session) -> None:
    """Two `tandem serve` processes on one PostgreSQL database: LISTEN/NOTIFY carries the event."""
    if database_url.startswith("sqlite"):
        pytest.skip("replicas share events through PostgreSQL; set TANDEM_TEST_DATABASE_URL")
    setup = create_clinic(session)
    active_patient(session, setup, name="Zoé Zimmer", email="zoe@example.org")
    session.close()
    env = {"TANDEM_SCHEDULER_ENABLED": "false"}
    with running_server(env=env) as first, running_server(env=env) as second:
        browser = signed_in_browser(first, setup.clinician.email, setup.clinician_password)
        with browser.stream("GET", "/portal/alerts/stream") as feed:
            reader = EventReader(feed)
            reader.wait_connected()
            post_checkin(second, client_tokens(second, "zoe@example.org", CLIENT_PASSWORD), GOODBYE)
            event = reader.next_event()
        assert event is not None and event.name == "alert"
        assert event.data["severity"] == "urgent" and event.data["kind"] == "alert.created"
        rows = browser.get("/portal/alerts/rows")
        assert "Zoé Zimmer" in rows.text
        assert httpx.get(f"{second}/readyz").status_code == 200


def test_a_server_with_open_feeds_still_stops_promptly(database_url: str, session: Session) -> None:
    """A rolling deploy must not wait forever for pages that keep their live feed open: the server
    tells the feed the connection is closing, and the feed lets go of its subscription."""
    setup = create_clinic(session)
    session.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [TANDEM, "serve", "--port", str(port)],
        env=tandem_env(TANDEM_SCHEDULER_ENABLED="false"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(base, process)
        browser = signed_in_browser(base, setup.clinician.email, setup.clinician_password)
        with browser.stream("GET", "/portal/alerts/stream") as feed:
            EventReader(feed).wait_connected()
            started = time.monotonic()
            process.terminate()
            process.wait(timeout=30)
            assert time.monotonic() - started < 15
    finally:
        if process.poll() is None:
            process.kill()
