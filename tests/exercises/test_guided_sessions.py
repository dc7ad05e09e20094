"""A client works through an assigned exercise with the scripted coach, over the client API."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from service.exercises import assignments, sessions
from service.exercises import review as exercise_review
from service.exercises.catalog import get_exercise
from service.exercises.coach.reflect import second_person
from service.models import AuditEvent, ExerciseMessage, ExerciseSession
from tests.exercises.conftest import BALANCED, THOUGHT_RECORD, Enrolled, assign, enrol, say, start

STEPS = len(get_exercise("thought_record").steps)


def _complete_thought_record(client: TestClient, session: Session, enrolled: Enrolled, lang: str) -> tuple[str, dict]:
    assignment = assign(session, enrolled)
    opened = start(client, enrolled, assignment.id)
    assert opened["done"] is False
    reply: dict = {}
    for answer in THOUGHT_RECORD[lang]:
        assert reply.get("done") is not True
        reply = say(client, enrolled, opened["session_id"], answer)
        assert reply["crisis"] is None
    return opened["session_id"], reply


# ---------------------------------------------------------------- the whole exercise


@pytest.mark.parametrize(("lang", "country"), [("en", "US"), ("fr", "FR")])
def test_client_completes_a_thought_record_and_the_clinician_sees_the_balanced_thought_and_rerated_emotions(
    client: TestClient, session: Session, lang: str, country: str
) -> None:
    enrolled = enrol(session, locale=lang, country=country)
    session_id, last = _complete_thought_record(client, session, enrolled, lang)
    assert last["done"] is True and last["status"] == "completed"
    assert second_person(BALANCED[lang].rstrip("."), lang) in last["message"]

    detail = exercise_review.session_detail(session, staff=enrolled.setup.clinician, session_id=session_id)
    assert detail.status == "completed" and detail.completed_at is not None
    assert detail.step_index == detail.steps_total == STEPS
    balanced = detail.field("balanced_thought")
    assert balanced is not None and balanced.value == BALANCED[lang]
    [change] = detail.comparisons
    assert change.name == "emotion_change"
    assert [r["intensity"] for r in change.before] == [80, 60]
    assert [r["intensity"] for r in change.after] == [40, 20]
    assert [r["emotion"] for r in change.after] == (["anxious", "ashamed"] if lang == "en" else ["anxieux", "honteux"])
    # Opening, then one client line and one coach line per answer, in order.
    assert [line.role for line in detail.transcript] == ["coach"] + ["client", "coach"] * len(THOUGHT_RECORD[lang])
    assert [line.text for line in detail.transcript if line.role == "client"] == THOUGHT_RECORD[lang]
    assert all(line.risk_level == "none" for line in detail.transcript if line.role == "client")
    viewed = session.exec(select(AuditEvent).where(AuditEvent.action == "exercise_session.view")).one()
    assert viewed.entity_id == session_id and viewed.actor_id == enrolled.setup.clinician.id


def test_opening_says_it_is_an_automated_guide_and_names_the_countrys_emergency_number(
    client: TestClient, session: Session
) -> None:
    english = enrol(session, locale="en", country="GB", slug="gb", email="gb@example.org")
    opening = start(client, english, assign(session, english).id)["message"]
    assert "automated guide, not a person or a therapist" in opening
    assert "call 999, your local emergency number" in opening

    french = enrol(session, locale="fr", country="FR", slug="fr", email="fr@example.org")
    opening = start(client, french, assign(session, french, instructions="Pensez à la réunion de lundi.").id)["message"]
    assert "guide automatisé, ni une personne ni un thérapeute" in opening
    assert "appelez le 15, le numéro d'urgence local" in opening
    assert "Un mot de votre thérapeute : Pensez à la réunion de lundi." in opening


def test_the_client_lists_assignments_with_title_summary_instructions_due_date_and_adherence(
    client: TestClient, session: Session
) -> None:
    enrolled = enrol(session, locale="fr", country="FR")
    assignment = assign(session, enrolled, "breathing", instructions="Le soir, avant de dormir.")
    rows = client.get("/api/v1/assignments", headers=enrolled.headers).json()
    [row] = rows
    exercise = get_exercise("breathing")
    assert row["id"] == assignment.id and row["exercise_code"] == "breathing"
    assert (row["title"], row["summary"], row["minutes"]) == (exercise.title.fr, exercise.summary.fr, exercise.minutes)
    assert row["instructions"] == "Le soir, avant de dormir."
    assert row["status"] == "active" and row["due_now"] is True
    assert row["next_due_on"] == assignments.local_today(enrolled.patient).isoformat()
    assert row["last_completed_at"] is None and row["in_progress_session_id"] is None
    assert row["adherence"] == {"weeks": 4, "expected": 1, "completed": 0, "rate": 0.0}

    session_id = start(client, enrolled, assignment.id)["session_id"]
    for answer in ("3", "fini", "fini", "fini", "7"):
        say(client, enrolled, session_id, answer)
    [row] = client.get("/api/v1/assignments", headers=enrolled.headers).json()
    assert row["last_completed_at"] is not None and row["due_now"] is False
    assert row["adherence"] == {"weeks": 4, "expected": 1, "completed": 1, "rate": 1.0}


# ---------------------------------------------------------------- leaving and coming back


def test_starting_again_resumes_the_unfinished_session_without_a_duplicate(
    client: TestClient, session: Session
) -> None:
    enrolled = enrol(session)
    assignment = assign(session, enrolled)
    first = start(client, enrolled, assignment.id)
    say(client, enrolled, first["session_id"], THOUGHT_RECORD["en"][0])
    again = start(client, enrolled, assignment.id)
    assert again["session_id"] == first["session_id"] and again["resumed"] is True and first["resumed"] is False
    assert "Let's pick up where you left off." in again["message"]
    assert get_exercise("thought_record").steps[1].prompt.en in again["message"]
    assert len(session.exec(select(ExerciseSession)).all()) == 1

    state = client.get(f"/api/v1/sessions/{first['session_id']}", headers=enrolled.headers).json()
    assert (state["status"], state["done"]) == ("in_progress", False)
    assert (state["step_index"], state["steps_total"]) == (1, STEPS)
    assert [line["role"] for line in state["transcript"]] == ["coach", "client", "coach", "coach"]
    assert state["transcript"][1]["text"] == THOUGHT_RECORD["en"][0]
    [row] = client.get("/api/v1/assignments", headers=enrolled.headers).json()
    assert row["in_progress_session_id"] == first["session_id"]


def test_a_completed_exercise_can_be_done_again_as_a_new_session(client: TestClient, session: Session) -> None:
    enrolled = enrol(session)
    assignment = assign(session, enrolled, "breathing")
    first = start(client, enrolled, assignment.id)["session_id"]
    for answer in ("4", "done", "done", "done", "8"):
        say(client, enrolled, first, answer)
    second = start(client, enrolled, assignment.id)
    assert second["session_id"] != first and second["resumed"] is False


# ---------------------------------------------------------------- answers that cannot be used


def test_an_answer_that_fails_validation_is_asked_again_and_nothing_is_lost(
    client: TestClient, session: Session
) -> None:
    enrolled = enrol(session)
    session_id = start(client, enrolled, assign(session, enrolled).id)["session_id"]
    say(client, enrolled, session_id, THOUGHT_RECORD["en"][0])
    reply = say(client, enrolled, session_id, "I felt awful")  # an emotion without a rating
    assert reply["done"] is False and reply["status"] == "in_progress" and reply["crisis"] is None
    assert "awful" in reply["message"]
    state = client.get(f"/api/v1/sessions/{session_id}", headers=enrolled.headers).json()
    assert state["step_index"] == 1
    assert [line["text"] for line in state["transcript"] if line["role"] == "client"] == [
        THOUGHT_RECORD["en"][0],
        "I felt awful",
    ]
    reply = say(client, enrolled, session_id, "awful 70")
    assert client.get(f"/api/v1/sessions/{session_id}", headers=enrolled.headers).json()["step_index"] == 2


# ---------------------------------------------------------------- bad requests


def test_empty_blank_and_oversized_messages_are_refused_with_a_clear_detail(
    client: TestClient, session: Session
) -> None:
    enrolled = enrol(session)
    session_id = start(client, enrolled, assign(session, enrolled).id)["session_id"]
    url = f"/api/v1/sessions/{session_id}/messages"
    for body, fragment in (
        ({"text": ""}, "empty"),
        ({"text": "   \n "}, "empty"),
        ({"text": "a" * 2001}, "2,000 characters"),
    ):
        response = client.post(url, json=body, headers=enrolled.headers)
        assert response.status_code == 422 and fragment in response.json()["detail"]
    assert client.post(url, json={}, headers=enrolled.headers).status_code == 422
    assert client.post(url, json={"text": "hi", "extra": 1}, headers=enrolled.headers).status_code == 422
    assert client.post(url, json={"text": "a" * 2000}, headers=enrolled.headers).status_code == 200
    assert client.post(url, json={"text": "hello"}).status_code == 401


def test_unknown_and_other_clients_sessions_are_not_found(client: TestClient, session: Session) -> None:
    owner = enrol(session)
    other = enrol(session, email="other@example.org", slug="two")
    session_id = start(client, owner, assign(session, owner).id)["session_id"]
    for who, sid in ((owner, "no-such-session"), (other, session_id)):
        response = client.post(f"/api/v1/sessions/{sid}/messages", json={"text": "hello"}, headers=who.headers)
        assert response.status_code == 404 and response.json()["detail"] == "No such exercise session."
        assert client.get(f"/api/v1/sessions/{sid}", headers=who.headers).status_code == 404
    own_assignment = session.exec(select(ExerciseSession)).one().assignment_id
    assert client.post(f"/api/v1/assignments/{own_assignment}/sessions", headers=other.headers).status_code == 404


def test_a_finished_session_takes_no_more_messages(client: TestClient, session: Session) -> None:
    enrolled = enrol(session)
    session_id = start(client, enrolled, assign(session, enrolled, "breathing").id)["session_id"]
    for answer in ("4", "done", "done", "done", "8"):
        say(client, enrolled, session_id, answer)
    response = client.post(f"/api/v1/sessions/{session_id}/messages", json={"text": "9"}, headers=enrolled.headers)
    assert response.status_code == 409 and "already complete" in response.json()["detail"]


def test_a_paused_or_ended_assignment_cannot_be_started_or_continued(client: TestClient, session: Session) -> None:
    enrolled = enrol(session)
    staff = enrolled.setup.clinician
    assignment = assign(session, enrolled)
    session_id = start(client, enrolled, assignment.id)["session_id"]
    assignments.pause_assignment(session, staff=staff, assignment_id=assignment.id)
    response = client.post(f"/api/v1/assignments/{assignment.id}/sessions", headers=enrolled.headers)
    assert response.status_code == 409 and "paused" in response.json()["detail"]
    response = client.post(f"/api/v1/sessions/{session_id}/messages", json={"text": "hi"}, headers=enrolled.headers)
    assert response.status_code == 409 and "paused" in response.json()["detail"]
    assignments.end_assignment(session, staff=staff, assignment_id=assignment.id)
    assert client.post(f"/api/v1/assignments/{assignment.id}/sessions", headers=enrolled.headers).status_code == 404
    state = client.get(f"/api/v1/sessions/{session_id}", headers=enrolled.headers).json()
    assert state["status"] == "abandoned" and state["done"] is True
    assert client.get("/api/v1/assignments", headers=enrolled.headers).json() == []


FR = {"Accept-Language": "fr-FR,fr;q=0.9"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}


def test_exercise_refusals_speak_the_language_the_request_asks_for_like_every_other_refusal(
    client: TestClient, session: Session
) -> None:
    """Accept-Language first (the app shows the language picked on the device), then the profile."""
    english = enrol(session)
    assignment = assign(session, english)
    session_id = start(client, english, assignment.id)["session_id"]
    url = f"/api/v1/sessions/{session_id}/messages"

    def refused(method: str, path: str, headers: dict[str, str], **body: object) -> tuple[int, str]:
        response = client.request(method, path, headers={**english.headers, **headers}, **body)  # type: ignore[arg-type]
        return response.status_code, str(response.json()["detail"])

    assert refused("POST", url, FR, json={"text": "  "})[1].startswith("Le message est vide")
    status, detail = refused("POST", url, FR, json={"text": "a" * 2001})
    assert status == 422 and detail.startswith("Le message dépasse 2\u00a0000 caractères")
    assert refused("POST", url, {}, json={"text": "a" * 2001})[1].startswith("The message is longer than 2,000")
    missing = "/api/v1/sessions/no-such-session"
    assert refused("GET", missing, FR) == (404, "Séance d'exercice introuvable.")
    assert refused("GET", missing, EN) == (404, "No such exercise session.")
    assignments.pause_assignment(session, staff=english.setup.clinician, assignment_id=assignment.id)
    start_url = f"/api/v1/assignments/{assignment.id}/sessions"
    assert refused("POST", start_url, FR) == (409, "Votre thérapeute a mis cet exercice en pause pour le moment.")
    assert refused("POST", url, FR, json={"text": "hi"})[0] == 409

    # A French profile reads English when the app asks for it, the clinician's reason included.
    french = enrol(session, locale="fr", country="FR", email="lea@example.org", slug="lyon")
    paused = assign(session, french)
    assignments.pause_coach(
        session, staff=french.setup.clinician, assignment_id=paused.id, reason="Parlons-en d'abord jeudi."
    )
    path = f"/api/v1/assignments/{paused.id}/sessions"
    response = client.post(path, headers={**french.headers, **EN})
    assert response.status_code == 409
    assert (
        response.json()["detail"] == "Your therapist has paused the guided exercise for now: Parlons-en d'abord jeudi."
    )
    response = client.post(path, headers=french.headers)  # no header: the profile's language
    assert response.json()["detail"].startswith("Votre thérapeute a mis l'exercice guidé en pause")


# ---------------------------------------------------------------- storage and the clinician's view


def test_client_words_are_encrypted_at_rest(client: TestClient, session: Session) -> None:
    enrolled = enrol(session)
    session_id = start(client, enrolled, assign(session, enrolled).id)["session_id"]
    say(client, enrolled, session_id, "My neighbour Bartholomew shouted at me in the stairwell.")
    stored_lines = session.execute(text("SELECT text FROM exercise_message")).scalars().all()
    stored_answers = session.execute(text("SELECT answers_json FROM exercise_session")).scalar_one()
    # Sealed under the client's own data key (crypto-shredded at erasure), not only the key ring.
    sealed_for = f"p1.{enrolled.patient.id}."
    assert all(value.startswith(sealed_for) for value in [*stored_lines, stored_answers])
    assert not any("Bartholomew" in value for value in [*stored_lines, stored_answers])
    row = session.exec(select(ExerciseSession)).one()
    session.refresh(row)
    assert "Bartholomew" in json.loads(row.answers_json)["situation"]


def test_only_staff_who_may_see_the_patient_read_a_session(client: TestClient, session: Session) -> None:
    from service.errors import NotFound
    from tests.factories import create_clinic

    enrolled = enrol(session)
    session_id = start(client, enrolled, assign(session, enrolled).id)["session_id"]
    elsewhere = create_clinic(session, name="Elsewhere", slug="elsewhere")
    with pytest.raises(NotFound):
        exercise_review.session_detail(session, staff=elsewhere.admin, session_id=session_id)
    assert exercise_review.session_detail(session, staff=enrolled.setup.admin, session_id=session_id).id == session_id
    [summary] = exercise_review.sessions_for_staff(
        session, staff=enrolled.setup.clinician, patient_id=enrolled.patient.id
    )
    assert summary.id == session_id and summary.status == "in_progress"


def test_each_transcript_line_has_its_place_and_author(client: TestClient, session: Session) -> None:
    enrolled = enrol(session)
    session_id = start(client, enrolled, assign(session, enrolled).id)["session_id"]
    say(client, enrolled, session_id, THOUGHT_RECORD["en"][0])
    lines = session.exec(select(ExerciseMessage).order_by(ExerciseMessage.seq)).all()  # type: ignore[arg-type]
    assert [(m.seq, m.role, m.engine, m.step_index) for m in lines] == [
        (1, "coach", "scripted", 0),
        (2, "client", None, 0),
        (3, "coach", "scripted", 0),
    ]
    assert lines[1].risk_level == "none" and lines[1].risk_engine_version


def test_the_clients_export_holds_their_assignments_answers_and_transcripts(
    client: TestClient, session: Session
) -> None:
    enrolled = enrol(session)
    assignment = assign(session, enrolled, instructions="Think of Tuesday.")
    session_id = start(client, enrolled, assignment.id)["session_id"]
    say(client, enrolled, session_id, THOUGHT_RECORD["en"][0])
    exported = sessions.client_export(session, enrolled.patient)
    [assigned] = exported["assignments"]
    assert (assigned["id"], assigned["instructions"]) == (assignment.id, "Think of Tuesday.")
    [done] = exported["exercise_sessions"]
    assert done["answers"] == {"situation": THOUGHT_RECORD["en"][0]}
    assert [line["role"] for line in done["transcript"]] == ["coach", "client", "coach"]
    assert json.dumps(exported)  # JSON-ready


def test_a_session_started_on_an_older_version_of_the_exercise_is_closed_and_started_afresh(
    client: TestClient, session: Session
) -> None:
    enrolled = enrol(session)
    assignment = assign(session, enrolled)
    old = start(client, enrolled, assignment.id)["session_id"]
    # As if the exercise's steps had changed since this session began.
    session.execute(text("UPDATE exercise_session SET exercise_version = 0 WHERE id = :id"), {"id": old})
    session.commit()
    response = client.post(f"/api/v1/sessions/{old}/messages", json={"text": "hello"}, headers=enrolled.headers)
    assert response.status_code == 409 and "updated since you started it" in response.json()["detail"]
    assert client.get(f"/api/v1/sessions/{old}", headers=enrolled.headers).json()["status"] == "abandoned"

    session.execute(
        text("UPDATE exercise_session SET status = 'in_progress', exercise_version = 0 WHERE id = :id"), {"id": old}
    )
    session.commit()
    fresh = start(client, enrolled, assignment.id)
    assert fresh["session_id"] != old and fresh["resumed"] is False
    statuses = {
        row.id: row.status for row in session.exec(select(ExerciseSession).execution_options(populate_existing=True))
    }
    assert statuses == {old: "abandoned", fresh["session_id"]: "in_progress"}
