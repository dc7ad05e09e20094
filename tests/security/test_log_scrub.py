"""No client text in logs, ever: marked text goes through every route that accepts text, as a valid
request, as an invalid one, and with an internal error forced whose message quotes what was written
(as database and encoding errors do). The real server (uvicorn, the service's logging set-up) runs
in this process; afterwards no marker may appear anywhere in what was logged."""

from __future__ import annotations

import io
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from service.logs import configure_logging
from tests.factories import CLIENT_PASSWORD, ClinicSetup, active_patient, bearer, create_clinic
from tests.portal.clinical import raise_alert
from tests.portal.conftest import csrf_of
from tests.support.server import free_port

_counter = itertools.count()
sent_markers: list[str] = []


def mark(label: str) -> str:
    marker = f"MARK{next(_counter):03d}{label}zq"
    sent_markers.append(marker)
    return marker


@pytest.fixture
def captured_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging(logging.DEBUG)
    buffer = io.StringIO()
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    # This test's own HTTP client logs the URLs it requests: those lines are not the server's.
    client_side = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    client_levels = [logger.level for logger in client_side]
    for logger in client_side:
        logger.setLevel(logging.CRITICAL)
    sent_markers.clear()
    yield buffer
    root.handlers[:], root.level = saved
    for logger, level in zip(client_side, client_levels, strict=True):
        logger.setLevel(level)


@pytest.fixture
def server(app, captured_log: io.StringIO) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=True, lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


def _fail_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every flush fails with a message quoting the rows being written, as a database error would."""

    def failing_flush(self: OrmSession, objects: object = None) -> None:
        quoted = [{k: v for k, v in vars(row).items() if not k.startswith("_")} for row in self.new | self.dirty]
        raise RuntimeError(f"forced failure writing {quoted!r}")

    monkeypatch.setattr(OrmSession, "flush", failing_flush)


class Tolerant(httpx.Client):
    """A client that carries on when a forced failure makes the server drop the connection."""

    def request(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        try:
            return super().request(*args, **kwargs)
        except httpx.TransportError:
            return httpx.Response(599)


def _client_requests(http: httpx.Client, headers: dict[str, str], email: str, session_id: str) -> None:
    http.post("/api/v1/checkins", json={"mood": 5, "note": mark("note")}, headers=headers)
    http.post("/api/v1/checkins", json={"mood": 5, "note": "x", "tags": [mark("tag")]}, headers=headers)
    http.post("/api/v1/checkins", json={"mood": mark("mood"), "note": mark("badnote")}, headers=headers)
    http.post("/api/v1/checkins", json={"mood": 5, mark("key"): 1}, headers=headers)
    http.post("/api/v1/checkins", json={"mood": 5, "note": mark("long") * 400}, headers=headers)
    http.post(
        "/api/v1/checkins",
        json={"mood": 5, "note": "y"},
        headers={**headers, "Idempotency-Key": mark("idem")},
    )
    http.post(f"/api/v1/sessions/{session_id}/messages", json={"text": mark("coach")}, headers=headers)
    http.post(
        f"/api/v1/sessions/{session_id}/messages",
        content=json.dumps({"text": mark("coach2") + "\ud800"}),  # a lone surrogate, escaped as JSON allows
        headers={**headers, "content-type": "application/json"},
    )
    http.post("/api/v1/auth/token", json={"email": mark("email") + "@example.org", "password": mark("pw")})
    http.post("/api/v1/auth/token", json={"email": email, "password": mark("pw2")})
    http.post("/api/v1/auth/refresh", json={"refresh_token": mark("refresh")})
    http.post("/api/v1/auth/logout", json={"refresh_token": mark("logout")})
    http.post(
        "/api/v1/auth/activate",
        json={
            "invite_code": mark("code"),
            "email": mark("aemail") + "@example.org",
            "password": mark("apw"),
            "consent_version": mark("consent"),
        },
    )
    http.get("/api/v1/consent", params={"invite_code": mark("qcode")})
    http.get("/api/v1/checkins", params={"cursor": mark("cursor")}, headers=headers)
    http.post("/api/v1/measures/phq9/responses", json={"answers": [0] * 9, "x": mark("extra")}, headers=headers)
    http.post(
        "/api/v1/measures/phq9/responses", json={"answers": [0] * 9}, headers={**headers, "Idempotency-Key": mark("mi")}
    )


def _portal_requests(
    http: httpx.Client, setup: ClinicSetup, patient_id: str, alert_id: str, then: Callable[[], None] = lambda: None
) -> None:
    """Sign-in attempts, then (signed in as the admin) every portal form that takes text; ``then`` runs
    between the two (to force errors once signed in)."""
    login_page = http.get("/portal/login")
    http.post(
        "/portal/login",
        data={"email": mark("pemail"), "password": mark("ppw"), "csrf_token": csrf_of(login_page.text)},
    )
    http.cookies.clear()
    login_page = http.get("/portal/login")
    signed_in = http.post(
        "/portal/login",
        data={"email": setup.admin.email, "password": setup.admin_password, "csrf_token": csrf_of(login_page.text)},
    )
    assert signed_in.status_code == 303, signed_in.status_code
    token = csrf_of(http.get("/portal/patients/new").text)
    then()
    forms = [
        ("/portal/patients", {"display_name": mark("pname"), "clinician_id": setup.clinician.id}),
        (f"/portal/alerts/{alert_id}/resolve", {"resolution": "other", "note": mark("resolution")}),
        (f"/portal/alerts/{alert_id}/resolve", {"resolution": mark("badres"), "note": ""}),
        (
            f"/portal/patients/{patient_id}/assignments",
            {"exercise_code": "grounding", "every_days": "1", "instructions": mark("instr")},
        ),
        (f"/portal/patients/{patient_id}/appointment", {"appointment_at": mark("appt")}),
        ("/portal/staff", {"name": mark("sname"), "email": mark("semail") + "@example.org", "role": "clinician"}),
        ("/portal/language", {"locale": mark("lang")}),
    ]
    for action, form in forms:
        http.post(action, data={**form, "csrf_token": token})
    http.get("/portal/audit", params={"action": mark("audit"), "actor": mark("actor")})


def test_marked_client_text_never_reaches_the_logs(
    server: str, captured_log: io.StringIO, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = create_clinic(session)
    patient, tokens = active_patient(session, setup, email="logs@example.org")
    headers = bearer(tokens)
    from service.exercises import assignments, sessions

    assignment = assignments.create_assignment(
        session, staff=setup.clinician, patient_id=patient.id, exercise_code="thought_record"
    )
    started = sessions.start_session(session, patient=patient, assignment_id=assignment.id)
    alert = raise_alert(session, patient)

    with Tolerant(base_url=server, timeout=30) as http:
        _client_requests(http, headers, "logs@example.org", started.session_id)
        _portal_requests(http, setup, patient.id, alert.id)
    with Tolerant(base_url=server, timeout=30) as http:
        _portal_requests(http, setup, patient.id, alert.id, then=lambda: _fail_writes(monkeypatch))
        _client_requests(http, headers, "logs@example.org", started.session_id)
        http.post("/api/v1/auth/token", json={"email": "logs@example.org", "password": CLIENT_PASSWORD})
    monkeypatch.undo()

    logged = captured_log.getvalue()
    assert "(message withheld)" in logged, "the forced errors were not logged: the test proves nothing"
    assert "tandem.access" in logged and "{session_id}" in logged  # the access log names route templates
    assert len(sent_markers) > 40
    leaked = sorted({marker for marker in sent_markers if marker in logged})
    lines = [line for line in logged.splitlines() if "zq" in line]
    assert leaked == [], lines[:5]
    assert "zq" not in logged


def test_a_server_logging_set_up_by_uvicorn_still_goes_through_the_scrubber() -> None:
    """uvicorn's own logging configuration gives its loggers their own handler and stops them
    propagating; the service's set-up takes them back, so a crash report never prints its message."""
    import logging.config

    from uvicorn.config import LOGGING_CONFIG

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        logging.config.dictConfig(LOGGING_CONFIG)
        configure_logging()
        buffer = io.StringIO()
        root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
        try:
            raise ValueError("secret words MARKzq")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        logged = buffer.getvalue()
        assert "Exception in ASGI application" in logged and "(message withheld)" in logged
        assert "MARKzq" not in logged
    finally:
        root.handlers[:], root.level = saved
