"""Who may open what, over every route with an id, on both faces.

Two clinics; a patient moved from one clinician to another (with open and resolved alerts, an
exercise assignment and a guided session, a stored summary); a deactivated clinician; admins of both
clinics; and, on the client API, another client and a discharged client. Routes are read from the
applications themselves, so a new route with an id joins the matrix (or fails it until its id is
named below).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.alerts import lifecycle, oncall
from service.caseload import service as caseload
from service.db import unit_of_work
from service.exercises import assignments, sessions
from service.kit.context import Actor
from service.models import CheckIn, ExerciseSession, MeasureResponse, Patient, PatientStatus, Staff
from service.onboarding import staff as staff_accounts
from service.onboarding import team
from service.onboarding.profile import open_request
from service.summaries.service import generate_and_store
from tests.factories import SYSTEM, ClinicSetup, active_patient, bearer, create_clinic
from tests.portal.clinical import raise_alert
from tests.portal.conftest import Portal, csrf_of

pytestmark = pytest.mark.slow  # every route with an id, for every role: started first (tests/conftest.py)

PATIENT_NAME = "Zephyrine Quillfeather"
_PARAM = re.compile(r"{([a-z_]+)(?::[a-z]+)?}")


@dataclass
class World:
    home: ClinicSetup
    other: ClinicSetup
    former: Staff
    former_password: str
    current: Staff
    current_password: str
    gone: Staff
    gone_password: str
    ids: dict[str, str]
    client_headers: dict[str, str]
    other_client_headers: dict[str, str]


def _clinician(session: Session, setup: ClinicSetup, email: str, name: str) -> tuple[Staff, str]:
    made = staff_accounts.add_staff(
        session, clinic=setup.clinic, email=email, name=name, role="clinician", actor=SYSTEM
    )
    return made.staff, made.password


@pytest.fixture
def world(session: Session) -> World:
    home = create_clinic(session, name="Home Clinic")
    other = create_clinic(session, name="Other Clinic")
    former, former_password = _clinician(session, home, "former@home-clinic.example.org", "Fern Former")
    current, current_password = _clinician(session, home, "current@home-clinic.example.org", "Cory Current")
    gone, gone_password = _clinician(session, home, "gone@home-clinic.example.org", "Gil Gone")

    patient, tokens = active_patient(session, home, name=PATIENT_NAME, clinician=former, email="zq@example.org")
    _, other_tokens = active_patient(session, other, name="Olga Other", email="oo@example.org")

    resolved = raise_alert(session, patient)
    lifecycle.resolve(session, alert_id=resolved.id, staff=former, resolution="called_client")
    still_open = raise_alert(session, patient, note="I want to die tonight")
    assert still_open.id != resolved.id
    assignment = assignments.create_assignment(session, staff=former, patient_id=patient.id, exercise_code="breathing")
    started = sessions.start_session(session, patient=patient, assignment_id=assignment.id)
    summary, _ = generate_and_store(session, patient=patient, reason="on_demand", actor=Actor.staff(former))
    session.expire_all()
    checkin = session.exec(select(CheckIn).where(CheckIn.patient_id == patient.id)).first()
    assert checkin is not None
    checkin_id = checkin.id
    response_id = session.exec(select(MeasureResponse.id).where(MeasureResponse.patient_id == patient.id)).first()

    # The patient moves to another clinician of the same clinic, who is also on the rota.
    caseload.change_clinician(session, staff=home.admin, patient_id=patient.id, clinician_id=current.id)
    tomorrow = datetime.now().replace(microsecond=0) + timedelta(days=1)
    shift = oncall.add_shift(
        session, admin=home.admin, staff_id=current.id, starts_local=tomorrow, ends_local=tomorrow + timedelta(hours=8)
    )
    # The patient asked for erasure (recorded without signing them out, so their tokens still serve below).
    with unit_of_work(session):
        erasure_request = open_request(session, patient=patient)
    session.expire_all()
    assert session.get(ExerciseSession, started.session_id) is not None
    return World(
        home=home,
        other=other,
        former=former,
        former_password=former_password,
        current=current,
        current_password=current_password,
        gone=gone,
        gone_password=gone_password,
        ids={
            "patient_id": patient.id,
            "alert_id": resolved.id,
            "open_alert_id": still_open.id,
            "assignment_id": assignment.id,
            "session_id": started.session_id,
            "summary_id": summary.id,
            "staff_id": current.id,
            "shift_id": shift.id,
            "request_id": erasure_request.id,
            "checkin_id": checkin_id,
            "response_id": response_id or "00000000-0000-4000-8000-000000000000",
            "code": "phq9",
            "change": "pause",
        },
        client_headers=bearer(tokens),
        other_client_headers=bearer(other_tokens),
    )


def api_routes(routes: list) -> Iterator[APIRoute]:  # type: ignore[type-arg]
    """Every route of an application, through included routers (their paths are already complete)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def _routes_with_ids(app, prefix: str) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    mounted = next(route for route in app.routes if getattr(route, "path", None) == prefix)
    for route in api_routes(mounted.app.routes):
        if "{" in route.path:
            for method in sorted(route.methods - {"HEAD"}):
                yield method, route.path


def _fill(path: str, ids: dict[str, str], *, alert: str = "alert_id") -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids or name == "alert_id", f"name an id for {{{name}}} in the IDOR matrix"
        return ids[alert] if name == "alert_id" else ids[name]

    return _PARAM.sub(value, path)


def _signed_in(app, email: str, password: str) -> Portal:  # type: ignore[no-untyped-def]
    browser = Portal(TestClient(app))
    browser.login_ok(email, password)
    return browser


def _request(browser: Portal, method: str, path: str, ids: dict[str, str]) -> int:
    """GET the page, or POST a complete, valid form to it with this browser's own CSRF token."""
    if method == "GET":
        return browser.get(path).status_code
    own_page = browser.client.get("/portal/login")
    form = {
        "csrf_token": csrf_of(own_page.text),
        "resolution": "called_client",
        "clinician_id": ids["staff_id"],
        "exercise_code": "grounding",
        "every_days": "1",
        "appointment_at": "",
    }
    return browser.client.post(path, data=form, follow_redirects=False).status_code


def test_portal_routes_with_an_id_follow_the_current_assignment(app, world: World, session: Session) -> None:  # type: ignore[no-untyped-def]
    ids = world.ids
    outsiders = {
        "former clinician": _signed_in(app, world.former.email, world.former_password),
        "other clinic's admin": _signed_in(app, world.other.admin.email, world.other.admin_password),
        "other clinic's clinician": _signed_in(app, world.other.clinician.email, world.other.clinician_password),
        "clinician without this patient": _signed_in(app, world.home.clinician.email, world.home.clinician_password),
    }
    insiders = {
        "current clinician": _signed_in(app, world.current.email, world.current_password),
        "clinic admin": _signed_in(app, world.home.admin.email, world.home.admin_password),
    }
    gone = _signed_in(app, world.gone.email, world.gone_password)
    team.deactivate_staff(session, admin=world.home.admin, staff_id=world.gone.id)

    routes = list(_routes_with_ids(app, "/portal"))
    assert len(routes) >= 15, routes
    leaks: list[str] = []
    for method, path in routes:
        for alert in ("alert_id", "open_alert_id"):
            url = "/portal" + _fill(path, ids, alert=alert)
            for who, browser in outsiders.items():
                if path.startswith("/staff/") and who == "clinician without this patient":
                    continue  # staff routes: checked below for roles
                status = _request(browser, method, url, ids)
                if not 400 <= status < 500:
                    leaks.append(f"{who}: {method} {url} -> {status}")
            status = _request(gone, method, url, ids)
            if status != 303 and not 400 <= status < 500:
                leaks.append(f"deactivated clinician: {method} {url} -> {status}")
            if method == "GET":
                for who, browser in insiders.items():
                    status = _request(browser, method, url, ids)
                    if status >= 400 and not (path.startswith("/staff") and who == "current clinician"):
                        leaks.append(f"{who} refused: {method} {url} -> {status}")
            if "{alert_id}" not in path:
                break

    # Lists: the former clinician no longer sees the patient anywhere.
    for page in ("/portal/", "/portal/alerts", "/portal/alerts/resolved", "/portal/alerts/rows"):
        for who, browser in outsiders.items():
            answer = browser.get(page)
            if PATIENT_NAME in answer.text:
                leaks.append(f"{who}: {page} names the patient")
    assert PATIENT_NAME in insiders["current clinician"].get("/portal/alerts/resolved").text
    assert leaks == []


def test_client_routes_with_an_id_answer_only_their_owner(client: TestClient, world: World, session: Session) -> None:
    document = client.get("/api/openapi.json").json()
    routes = [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if "_id}" in path  # {code} names a public questionnaire, not a row
        for method in operations
    ]
    assert len(routes) >= 5, routes
    leaks: list[str] = []
    for method, path in routes:
        url = "/api" + _fill(path, world.ids)
        body = {"text": "hello"} if path.endswith("/messages") else None
        answer = client.request(method, url, headers=world.other_client_headers, json=body)
        if answer.status_code != 404:
            leaks.append(f"another client: {method} {url} -> {answer.status_code}")
        owner = client.request("GET", url, headers=world.client_headers) if method == "GET" else None
        if owner is not None and owner.status_code != 200 and "{response_id}" not in path:
            leaks.append(f"owner refused: {method} {url} -> {owner.status_code}")

    # A discharged client's tokens stop working on every route.
    patient = session.get(Patient, world.ids["patient_id"])
    assert patient is not None
    patient.status = PatientStatus.DISCHARGED
    session.add(patient)
    session.commit()
    for method, path in routes:
        url = "/api" + _fill(path, world.ids)
        answer = client.request(method, url, headers=world.client_headers)
        if answer.status_code != 401:
            leaks.append(f"discharged client: {method} {url} -> {answer.status_code}")
    assert client.get("/api/v1/me", headers=world.client_headers).status_code == 401
    assert leaks == []
