"""`tandem demo` runs a local SMTP sink and a demo-only portal page listing the emails and push
messages sent, so a person trying the demo sees the whole chain; outside the demo the page is 404."""

from __future__ import annotations

import re
import subprocess
import time

import httpx
import pytest
from sqlmodel import Session

from tests.factories import ClinicSetup
from tests.portal.conftest import Portal, csrf_of
from tests.support.server import TANDEM, free_port, tandem_env, wait_ready


def test_the_demo_page_is_not_there_outside_the_demo(portal: Portal, clinic: ClinicSetup, session: Session) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert portal.get("/portal/demo/messages").status_code == 404
    assert "Messages sent (demo)" not in portal.get("/portal/alerts").text


@pytest.mark.slow(
    seconds=30
)  # `tandem demo` seeds weeks of history in its own process: started first (tests/conftest.py)
def test_tandem_demo_delivers_to_its_smtp_sink_and_lists_what_it_sent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = tandem_env(
        TANDEM_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}",
        TANDEM_BASE_URL=base,
        TANDEM_SCHEDULER_ENABLED="true",
        COLUMNS="200",
    )
    process = subprocess.Popen(
        [TANDEM, "demo", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 300  # seeding weeks of history takes a while on a busy machine
        while True:
            assert process.stdout is not None and time.monotonic() < deadline
            line = process.stdout.readline()
            assert line or process.poll() is None, "".join(lines)
            lines.append(line)
            if "Emails and push messages sent" in line:
                break
        output = "".join(lines)
        assert "local SMTP server on port" in output
        clinician = re.search(r"clinician\s+(\S+@\S+)\s+(\S+)\s*$", output, re.M)
        client = re.search(r"^\s+\S.*?\s(\S+@\S+)\s+(\S+)\s*$", output.split("Client logins")[1], re.M)
        assert clinician and client, output
        wait_ready(base, within=deadline - time.monotonic())
        deadline = time.monotonic() + 90  # the scheduler delivers the outbox every few seconds
        token = httpx.post(
            f"{base}/api/v1/auth/token", json={"email": client.group(1), "password": client.group(2)}, timeout=10
        ).json()["access_token"]
        checkin = httpx.post(
            f"{base}/api/v1/checkins",
            json={"mood": 1, "note": "I've written my goodbye letters"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=20,
        )
        assert checkin.status_code == 201
        with httpx.Client(base_url=base, timeout=10) as browser:
            login = browser.get("/portal/login")
            browser.post(
                "/portal/login",
                data={"email": clinician.group(1), "password": clinician.group(2), "csrf_token": csrf_of(login.text)},
            )
            seen = ""
            while time.monotonic() < deadline:
                seen = browser.get("/portal/demo/messages").text
                if "Delivered" in seen or "Remise le" in seen:  # the clinic may speak French
                    break
                time.sleep(1)
            assert "Messages sent (demo)" in seen or "Messages envoyés (démo)" in seen
            assert ("Delivered" in seen or "Remise le" in seen) and "[Tandem]" in seen
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
