"""Whole exchanges on the alert path (issue 10, item 4): a client's recent words read together.

Check-in notes of the last 72 hours, and a guided session's client lines, are screened as one
exchange: signs spread over messages add up to one urgent alert whose evidence names each message
involved, and an alarming word that the next message explains away adds nothing. The data here is
written for these tests (not the blind corpora)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.alerts import lifecycle
from service.models import Alert, AuditEvent, ExerciseMessage, MessageRole
from service.risk import RiskLevel, screen_text
from tests.exercises.conftest import assign, enrol, say, start
from tests.factories import active_patient, bearer, create_clinic

URL = "/api/v1/checkins"
# Each harmless alone; together a farewell (the keys left with a neighbour) and a date.
SPREAD = {
    "en": ["Left the keys with my neighbour.", "Work was fine, pasta for dinner.", "Friday it is."],
    "fr": ["J'en ai fini avec tout ça.", "Boulot correct, pâtes ce soir.", "Ma décision est faite."],
}
# A passing wish to disappear that the next message explains, then a date: nothing adds up.
EXPLAINED = {
    "en": ["I could just disappear.", "Into a good book, I mean!", "Friday it is."],
    "fr": ["Je voudrais juste disparaître.", "Je veux dire : dans un bon livre !", "Ma décision est faite."],
}


def _post(client: TestClient, headers: dict[str, str], note: str) -> dict[str, Any]:
    answer = client.post(URL, json={"mood": 5, "note": note}, headers=headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _no_client_text_in_audit_or_logs(session: Session, caplog: pytest.LogCaptureFixture, texts: list[str]) -> None:
    details = json.dumps([row.detail for row in session.exec(select(AuditEvent)).all()], ensure_ascii=False)
    for text in texts:
        assert text not in details and text not in caplog.text


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_notes_harmless_alone_that_state_a_farewell_and_a_plan_together_raise_one_urgent_alert(
    client: TestClient, session: Session, caplog: pytest.LogCaptureFixture, lang: str
) -> None:
    caplog.set_level(logging.DEBUG)
    notes = SPREAD[lang]
    assert [screen_text(note, lang).level for note in notes] == [RiskLevel.NONE] * len(notes)
    setup = create_clinic(session, locale=lang)
    patient, tokens = active_patient(session, setup, locale=lang)
    answers = [_post(client, bearer(tokens), note) for note in notes]

    assert [answer["crisis"] is not None for answer in answers] == [False, False, True]
    assert answers[-1]["risk"]["level"] == "high"
    assert answers[-1]["follow_up"] == ["cssrs"]  # the C-SSRS screener asks what the notes cannot tell
    alert = session.exec(select(Alert).where(Alert.patient_id == patient.id)).one()
    assert alert.severity == "urgent"
    [signal] = lifecycle.signals(session, alert=alert)
    assert signal["source_id"] == answers[-1]["id"]
    named = {e["message"]["source_id"] for e in signal["evidence"] if "message" in e}
    assert named == {answers[0]["id"], answers[2]["id"]}  # the farewell and the plan; not the pasta
    assert all(e["message"]["of"] == 3 and e["message"]["source_type"] == "checkin" for e in signal["evidence"])
    # The history names the messages read together by id; no audit row or log line quotes them.
    signal_event = next(event for event in lifecycle.history(session, alert=alert) if event.kind == "signal")
    assert signal_event.detail["exchange"] == [f"checkin:{answer['id']}" for answer in answers]
    _no_client_text_in_audit_or_logs(session, caplog, notes)
    # A retry of the last check-in (or reading it back) keeps the level the exchange gave it.
    listed = client.get(URL, headers=bearer(tokens)).json()
    assert {item["id"]: item["risk"]["level"] for item in listed}[answers[-1]["id"]] == "high"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_alarming_words_the_next_note_explains_away_add_up_to_nothing(
    client: TestClient, session: Session, lang: str
) -> None:
    notes = EXPLAINED[lang]
    setup = create_clinic(session, locale=lang)
    patient, tokens = active_patient(session, setup, locale=lang)
    answers = [_post(client, bearer(tokens), note) for note in notes]

    # Alone, the wish to disappear is low (a routine alert and the support lines, at once); once the
    # next note explains it, the date that follows raises nothing.
    assert answers[0]["risk"]["level"] == "low" and answers[0]["support"] is not None
    assert [answer["risk"]["level"] for answer in answers[1:]] == ["none", "none"]
    assert all(answer["crisis"] is None and answer["support"] is None for answer in answers[1:])
    alert = session.exec(select(Alert).where(Alert.patient_id == patient.id)).one()
    assert alert.severity == "routine" and len(lifecycle.signals(session, alert=alert)) == 1


def test_without_the_explanation_the_same_words_raise_the_open_alert_never_a_second_one(
    client: TestClient, session: Session
) -> None:
    setup = create_clinic(session)
    patient, tokens = active_patient(session, setup)
    wish = _post(client, bearer(tokens), "I could just disappear.")
    plan = _post(client, bearer(tokens), "Friday it is.")

    assert wish["support"] is not None and plan["risk"]["level"] == "high" and plan["crisis"] is not None
    alert = session.exec(select(Alert).where(Alert.patient_id == patient.id)).one()  # raised, not doubled
    assert alert.severity == "urgent"
    exchange = lifecycle.signals(session, alert=alert)[-1]
    assert {e["message"]["source_id"] for e in exchange["evidence"] if "message" in e} == {wish["id"], plan["id"]}
    assert any(event.kind == "severity_raised" for event in lifecycle.history(session, alert=alert))


def test_notes_older_than_72_hours_are_not_read_with_a_new_one(client: TestClient, session: Session) -> None:
    from datetime import timedelta

    from service.models import CheckIn

    setup = create_clinic(session)
    patient, tokens = active_patient(session, setup)
    farewell = _post(client, bearer(tokens), SPREAD["en"][0])
    row = session.get(CheckIn, farewell["id"])
    assert row is not None
    row.recorded_at -= timedelta(hours=73)
    session.add(row)
    session.commit()
    plan = _post(client, bearer(tokens), SPREAD["en"][2])
    assert plan["risk"]["level"] == "none" and plan["crisis"] is None
    assert session.exec(select(Alert).where(Alert.patient_id == patient.id)).all() == []


# ---------------------------------------------------------------- the guided session


def _client_line_ids(session: Session, session_id: str) -> list[str]:
    return list(
        session.exec(
            select(ExerciseMessage.id)
            .where(ExerciseMessage.session_id == session_id, ExerciseMessage.role == MessageRole.CLIENT)
            .order_by(col(ExerciseMessage.seq))
        ).all()
    )


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_guided_session_whose_lines_add_up_stops_with_one_urgent_alert_naming_them(
    client: TestClient, session: Session, lang: str
) -> None:
    enrolled = enrol(session, locale=lang, country="US" if lang == "en" else "FR")
    session_id = start(client, enrolled, assign(session, enrolled).id)["session_id"]
    replies = [say(client, enrolled, session_id, text) for text in SPREAD[lang]]

    assert [reply["crisis"] is not None for reply in replies] == [False, False, True]
    assert replies[-1]["status"] == "stopped_for_safety"
    alert = session.exec(select(Alert).where(Alert.patient_id == enrolled.patient.id)).one()
    assert alert.severity == "urgent"
    [signal] = lifecycle.signals(session, alert=alert)
    lines = _client_line_ids(session, session_id)
    assert signal["source_type"] == "coach_message" and signal["source_id"] == lines[-1]
    named = {e["message"]["source_id"] for e in signal["evidence"] if "message" in e}
    assert named == {lines[0], lines[2]}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_guided_session_whose_alarming_words_are_explained_goes_on(
    client: TestClient, session: Session, lang: str
) -> None:
    enrolled = enrol(session, locale=lang, country="US" if lang == "en" else "FR")
    session_id = start(client, enrolled, assign(session, enrolled).id)["session_id"]
    replies = [say(client, enrolled, session_id, text) for text in EXPLAINED[lang]]

    assert replies[0]["support"] is not None  # the wish to disappear, alone: low
    assert all(reply["crisis"] is None and reply["support"] is None for reply in replies[1:])
    assert replies[-1]["status"] == "in_progress"
    alert = session.exec(select(Alert).where(Alert.patient_id == enrolled.patient.id)).one()
    assert alert.severity == "routine" and len(lifecycle.signals(session, alert=alert)) == 1
