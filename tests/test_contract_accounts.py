"""The onboarding contract end to end, over HTTP against a real `tandem serve`, as a client app would.

The clinic's side (`tandem clinic create`, `staff add`, `patient onboard`) runs in this process
(tests/support/cli.py): the README's commands run the same ones as processes
(tests/test_readme_commands.py)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.cli import tandem, tandem_json
from tests.support.server import running_server

pytestmark = pytest.mark.slow(seconds=8)  # runs `tandem serve`: started first (tests/conftest.py)


def test_onboard_activate_refresh_and_log_in_again(database_url: str) -> None:
    clinic = tandem_json(
        "clinic",
        "create",
        "--name",
        "Contract Clinic",
        "--admin-email",
        "boss@contract.example.org",
        "--admin-name",
        "Bo Boss",
        "--locale",
        "fr",
        "--country",
        "FR",
        "--timezone",
        "Europe/Paris",
    )
    assert set(clinic) == {"clinic_id", "admin"} and clinic["admin"]["password"]
    clinician = tandem_json(
        "staff",
        "add",
        "--clinic",
        clinic["clinic_id"],
        "--email",
        "dr@contract.example.org",
        "--name",
        "Dr Dee",
        "--role",
        "clinician",
    )
    assert set(clinician) == {"id", "email", "password"}
    invited = tandem_json(
        "patient",
        "onboard",
        "--clinic",
        clinic["clinic_id"],
        "--clinician",
        "dr@contract.example.org",
        "--name",
        "Élodie Marchand",
    )
    assert set(invited) == {"patient_id", "invite_code", "invite_expires_at"}

    with running_server() as base, httpx.Client(base_url=base, timeout=10) as http:
        consent = http.get("/api/v1/consent", params={"invite_code": invited["invite_code"]})
        assert consent.status_code == 200
        assert "Consentement" in consent.json()["text"]  # the clinic speaks French

        password = "marmalade-tugboat-horizon-8"
        activated = http.post(
            "/api/v1/auth/activate",
            json={
                "invite_code": invited["invite_code"],
                "email": "elodie@example.org",
                "password": password,
                "consent_version": consent.json()["version"],
            },
        )
        assert activated.status_code == 201, activated.text
        tokens = activated.json()
        assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}

        me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 200
        assert me.json()["display_name"] == "Élodie Marchand" and me.json()["locale"] == "fr"
        assert me.headers["x-request-id"]

        refreshed = http.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200
        assert refreshed.json()["refresh_token"] != tokens["refresh_token"]

        stale = http.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert stale.status_code == 401 and "detail" in stale.json()

        again = http.post("/api/v1/auth/token", json={"email": "elodie@example.org", "password": password})
        assert again.status_code == 200
        me_again = http.get("/api/v1/me", headers={"Authorization": f"Bearer {again.json()['access_token']}"})
        assert me_again.json()["id"] == invited["patient_id"]

        assert http.get("/healthz").json() == {"status": "ok"}
        assert "tandem_http_requests_total" in http.get("/metrics").text
        assert http.get("/api/openapi.json").json()["info"]["title"] == "Tandem client API"
        assert http.get("/api/docs").status_code == 200


def test_cli_reports_bad_input_clearly(database_url: str) -> None:
    done = tandem("clinic", "create", "--name", "X", "--admin-email", "not-an-email", "--admin-name", "Y", "--json")
    assert done.exit_code == 2
    assert "not a valid email" in done.stderr and done.stdout == ""
