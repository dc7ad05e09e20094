"""Clinician control of the coach (issue 15, Grow's model): a moderate signal pauses the coach for the
assignment until a clinician resumes it from the portal; a clinician can pause it with a reason the
client reads."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.models import Alert, Assignment
from tests.exercises.conftest import THOUGHT_RECORD, assign, enrol, say, start
from tests.portal.conftest import Portal, actions

METHOD = "I have been thinking about how I would do it, pills maybe"


def _start_refused(client: TestClient, enrolled, assignment_id: str) -> str:  # type: ignore[no-untyped-def]
    response = client.post(f"/api/v1/assignments/{assignment_id}/sessions", headers=enrolled.headers)
    assert response.status_code == 409, response.text
    return str(response.json())


def test_a_clinician_resumes_a_coach_paused_by_a_moderate_signal(client: TestClient, session: Session) -> None:
    enrolled = enrol(session)
    row = assign(session, enrolled)
    session_id = start(client, enrolled, row.id)["session_id"]
    say(client, enrolled, session_id, THOUGHT_RECORD["en"][0])
    stopped = say(client, enrolled, session_id, METHOD)
    assert stopped["status"] == "stopped_for_safety" and stopped["crisis"] is not None

    # The coach stays paused for this assignment: starting again is refused, kindly, with where to get help.
    refusal = _start_refused(client, enrolled, row.id)
    assert "paused until your care team has been in touch" in refusal and "emergency number" in refusal

    portal = Portal(client)
    setup = enrolled.setup
    portal.login_ok(setup.clinician.email, setup.clinician_password)
    page = f"/portal/patients/{enrolled.patient.id}"
    assert "Coach paused after a risk signal" in portal.get(page).text
    resumed = portal.submit(page, f"/portal/assignments/{row.id}/coach/resume")
    assert resumed.status_code == 303 and resumed.headers["location"].endswith("?saved=coach_resumed#exercises")
    session.expire_all()
    assert session.get(Assignment, row.id).coach_paused_at is None  # type: ignore[union-attr]
    assert "assignment.coach_resume" in actions(session, actor_id=setup.clinician.id)

    again = start(client, enrolled, row.id)
    assert again["session_id"] != session_id and again["resumed"] is False
    # Resuming twice is a conflict, not a crash.
    assert portal.submit(page, f"/portal/assignments/{row.id}/coach/resume").status_code == 409


def test_a_clinician_resumes_the_coach_from_the_alert_the_moderate_signal_raised(
    client: TestClient, session: Session
) -> None:
    enrolled = enrol(session)
    row = assign(session, enrolled)
    session_id = start(client, enrolled, row.id)["session_id"]
    say(client, enrolled, session_id, THOUGHT_RECORD["en"][0])
    assert say(client, enrolled, session_id, METHOD)["status"] == "stopped_for_safety"
    alert = session.exec(select(Alert).where(Alert.patient_id == enrolled.patient.id)).one()

    portal = Portal(client)
    setup = enrolled.setup
    portal.login_ok(setup.clinician.email, setup.clinician_password)
    page = f"/portal/alerts/{alert.id}"
    html = portal.get(page).text
    assert "Coach paused after a risk signal" in html and "Thought record" in html
    resumed = portal.submit(page, f"/portal/assignments/{row.id}/coach/resume", {"alert_id": alert.id})
    assert resumed.status_code == 303 and resumed.headers["location"].endswith(
        f"/portal/alerts/{alert.id}?done=coach_resumed"
    )
    after = portal.get(resumed.headers["location"]).text
    assert "The coach can guide this exercise again." in after and "Resume the coach" not in after
    assert "assignment.coach_resume" in actions(session, actor_id=setup.clinician.id)
    again = start(client, enrolled, row.id)
    assert again["session_id"] != session_id


def test_a_clinician_pauses_the_coach_with_a_reason_the_client_reads(client: TestClient, session: Session) -> None:
    enrolled = enrol(session, locale="fr", country="FR")
    row = assign(session, enrolled)
    start(client, enrolled, row.id)
    portal = Portal(client)
    setup = enrolled.setup
    portal.login_ok(setup.clinician.email, setup.clinician_password)
    page = f"/portal/patients/{enrolled.patient.id}"
    empty = portal.submit(page, f"/portal/assignments/{row.id}/coach/pause", {"reason": "  "})
    assert empty.status_code == 422
    paused = portal.submit(page, f"/portal/assignments/{row.id}/coach/pause", {"reason": "Parlons-en d'abord jeudi."})
    assert paused.status_code == 303
    refusal = _start_refused(client, enrolled, row.id)
    assert "mis l'exercice guidé en pause" in refusal and "Parlons-en d'abord jeudi." in refusal
    assert portal.submit(page, f"/portal/assignments/{row.id}/coach/resume").status_code == 303
    start(client, enrolled, row.id)
