"""Every client message is screened before the coach sees it; a risk stops the exercise and reaches a person."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.alerts import lifecycle
from service.exercises import review as exercise_review
from service.exercises import sessions
from service.exercises.coach import CoachContext, CoachReply, ScriptedCoach
from service.models import Alert, AuditEvent, ExerciseMessage
from tests.exercises.conftest import CRISIS_MESSAGE, THOUGHT_RECORD, assign, enrol, say, start

PASSIVE_WISH = "Sometimes I wish I could go to sleep and not wake up."
METHOD = "I have been thinking about how I would do it, pills maybe"


@dataclasses.dataclass
class SpyCoach:
    """The scripted coach, noting every message it is shown."""

    seen: list[str] = dataclasses.field(default_factory=list)
    name: str = "scripted"

    def opening(self, ctx: CoachContext) -> CoachReply:
        return ScriptedCoach().opening(ctx)

    def reply(self, ctx: CoachContext, message: str) -> CoachReply:
        self.seen.append(message)
        return ScriptedCoach().reply(ctx, message)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[SpyCoach]:
    coach = SpyCoach()
    monkeypatch.setattr(sessions, "coach_engine", lambda: coach)
    yield coach


def _started(client: TestClient, session: Session, **enrol_options: str) -> tuple:
    enrolled = enrol(session, **enrol_options)
    session_id = start(client, enrolled, assign(session, enrolled).id)["session_id"]
    say(client, enrolled, session_id, THOUGHT_RECORD["en"][0])
    return enrolled, session_id


def test_a_crisis_message_mid_exercise_stops_it_returns_the_crisis_block_and_raises_an_alert_with_the_evidence(
    client: TestClient, session: Session, spy: SpyCoach
) -> None:
    enrolled, session_id = _started(client, session)
    reply = say(client, enrolled, session_id, CRISIS_MESSAGE)

    assert reply["done"] is True and reply["status"] == "stopped_for_safety"
    assert "I've stopped the exercise here" in reply["message"] and "call 911" in reply["message"]
    crisis = reply["crisis"]
    assert crisis is not None and "call 911" in crisis["message"] and reply["support"] is None
    assert any(line.get("phone") == "988" for line in crisis["resources"])
    assert "not right away" in crisis["care_team_notice"]
    assert CRISIS_MESSAGE not in spy.seen  # screened first: the coach never saw it

    alert = session.exec(select(Alert).where(Alert.patient_id == enrolled.patient.id)).one()
    assert alert.severity == "urgent" and alert.reason == "suicide_risk"
    [signal] = lifecycle.signals(session, alert=alert)
    line = session.exec(select(ExerciseMessage).where(ExerciseMessage.role == "client")).all()[-1]
    assert signal["source_type"] == "coach_message" and signal["source_id"] == line.id
    assert any("kill myself" in item["text"] for item in signal["evidence"])
    assert line.risk_level == "high" and "intent" in line.risk_categories

    stopped = session.exec(select(AuditEvent).where(AuditEvent.action == "exercise_session.stop_for_safety")).one()
    assert "kill" not in str(stopped.detail)
    detail = exercise_review.session_detail(session, staff=enrolled.setup.clinician, session_id=session_id)
    assert detail.status == "stopped_for_safety" and detail.stopped_at is not None
    assert detail.transcript[-1].engine == "safety"


def test_a_stopped_session_takes_no_more_messages_and_says_why(
    client: TestClient, session: Session, spy: SpyCoach
) -> None:
    enrolled, session_id = _started(client, session)
    say(client, enrolled, session_id, CRISIS_MESSAGE)
    response = client.post(
        f"/api/v1/sessions/{session_id}/messages", json={"text": "anxious 50"}, headers=enrolled.headers
    )
    assert response.status_code == 409 and "stopped for your safety" in response.json()["detail"]
    assert "anxious 50" not in spy.seen


def test_a_moderate_risk_message_also_stops_the_exercise(client: TestClient, session: Session, spy: SpyCoach) -> None:
    enrolled, session_id = _started(client, session)
    reply = say(client, enrolled, session_id, METHOD)
    assert reply["status"] == "stopped_for_safety" and reply["crisis"] is not None
    assert METHOD not in spy.seen
    alert = session.exec(select(Alert)).one()
    assert alert.severity == "priority"


def test_a_low_risk_message_raises_a_routine_alert_and_the_exercise_goes_on(
    client: TestClient, session: Session, spy: SpyCoach
) -> None:
    enrolled, session_id = _started(client, session)
    reply = say(client, enrolled, session_id, PASSIVE_WISH)
    assert reply["status"] == "in_progress" and reply["done"] is False
    assert reply["crisis"] is None and "Thank you for telling us" in reply["support"]["message"]
    assert any(line.get("phone") == "988" for line in reply["support"]["resources"])
    assert PASSIVE_WISH in spy.seen  # screened first, then shown to the coach as an answer
    alert = session.exec(select(Alert)).one()
    assert alert.severity == "routine"
    line = session.exec(select(ExerciseMessage).where(ExerciseMessage.role == "client")).all()[-1]
    assert line.risk_level == "low"
    say(client, enrolled, session_id, "sad 70")  # the exercise carries on
    state = client.get(f"/api/v1/sessions/{session_id}", headers=enrolled.headers).json()
    assert state["status"] == "in_progress"


def test_a_french_crisis_message_stops_the_exercise_with_french_resources(
    client: TestClient, session: Session, spy: SpyCoach
) -> None:
    enrolled = enrol(session, locale="fr", country="FR")
    session_id = start(client, enrolled, assign(session, enrolled).id)["session_id"]
    reply = say(client, enrolled, session_id, "J'ai décidé de me tuer ce soir")
    assert reply["status"] == "stopped_for_safety"
    assert "J'arrête l'exercice ici" in reply["message"] and "appelez le 15" in reply["message"]
    assert any(line.get("phone") == "3114" for line in reply["crisis"]["resources"])
    assert session.exec(select(Alert)).one().severity == "urgent"
    refused = client.post(f"/api/v1/sessions/{session_id}/messages", json={"text": "ok"}, headers=enrolled.headers)
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "Cette séance d'exercice a été arrêtée pour votre sécurité, et votre équipe de soins a été prévenue. "
        "Si vous êtes en danger, appelez le 15 maintenant."
    )


def test_ordinary_answers_raise_no_alert_and_carry_no_crisis_block(
    client: TestClient, session: Session, spy: SpyCoach
) -> None:
    enrolled, session_id = _started(client, session)
    for answer in THOUGHT_RECORD["en"][1:]:
        reply = say(client, enrolled, session_id, answer)
        assert reply["crisis"] is None and reply["support"] is None
    assert session.exec(select(Alert)).all() == []
