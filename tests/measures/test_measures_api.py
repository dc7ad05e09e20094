"""Standard questionnaires through the client API: what is due, scoring, risk, history and progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from service.kit.context import Actor
from service.measures import schedules
from service.models import AuditEvent, MeasureResponse, MeasureSchedule
from tests.checkins.fixtures import Clock

URL = "/api/v1/measures"


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def answers_totalling(total: int, items: int) -> list[int]:
    """3s from the first item on, then the remainder, then 0s (so item 9 stays 0 below 25)."""
    answers = []
    for _ in range(items):
        answers.append(min(3, total))
        total -= answers[-1]
    assert total == 0
    return answers


def cssrs(*yes: str) -> list[int]:
    return [1 if item in yes else 0 for item in ("1", "2", "3", "4", "5", "6", "6b")]


def listed(client: TestClient, headers: dict[str, str]) -> dict[str, dict]:
    return {m["code"]: m for m in client.get(URL, headers=headers).json()}


def test_phq9_and_gad7_are_due_on_the_day_of_activation(client: TestClient, sign_in) -> None:
    me = sign_in()
    measures = client.get(URL, headers=me.headers).json()
    assert [m["code"] for m in measures] == ["phq9", "gad7"]
    assert all(m["due"] and m["last_completed_at"] is None and m["interval_days"] == 14 for m in measures)
    assert measures[0]["title"] == "PHQ-9: Patient Health Questionnaire"


def test_a_french_client_gets_french_titles_items_and_labels(client: TestClient, sign_in) -> None:
    me = sign_in(locale="fr", country="FR", timezone="Europe/Paris")
    assert listed(client, me.headers)["phq9"]["title"] == "PHQ-9 : questionnaire sur la santé du patient"
    phq9 = client.get(f"{URL}/phq9", headers=me.headers).json()
    assert phq9["stem"].startswith("Au cours des 2 dernières semaines, selon quelle fréquence")
    assert phq9["items"][8]["text"].startswith("Penser qu'il vaudrait mieux mourir")
    assert [o["label"] for o in phq9["items"][0]["options"]] == [
        "Jamais",
        "Plusieurs jours",
        "Plus de la moitié du temps",
        "Presque tous les jours",
    ]
    cssrs_items = client.get(f"{URL}/cssrs", headers=me.headers).json()["items"]
    assert cssrs_items[2]["ask_if"] == {"item": "2", "answer": 1}
    scored = client.post(f"{URL}/gad7/responses", json={"answers": answers_totalling(12, 7)}, headers=me.headers)
    assert scored.json()["severity_label"] == "Modérée"


def test_an_unknown_instrument_is_not_found_and_nothing_is_written(
    client: TestClient, session: Session, sign_in
) -> None:
    me = sign_in()
    assert client.get(f"{URL}/beck", headers=me.headers).status_code == 404
    answer = client.post(f"{URL}/beck/responses", json={"answers": [0] * 21}, headers=me.headers)
    assert answer.status_code == 404 and answer.json()["detail"] == "unknown instrument 'beck'"
    assert client.get(f"{URL}/beck/responses", headers=me.headers).status_code == 404
    assert count(session, MeasureResponse) == 0


PHQ9_BANDS = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "moderately_severe"),
    (19, "moderately_severe"),
    (20, "severe"),
    (27, "severe"),
]
GAD7_BANDS = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "severe"),
    (21, "severe"),
]
LABELS = {
    "en": {
        "minimal": "Minimal",
        "mild": "Mild",
        "moderate": "Moderate",
        "moderately_severe": "Moderately severe",
        "severe": "Severe",
    },
    "fr": {
        "minimal": "Minimale",
        "mild": "Légère",
        "moderate": "Modérée",
        "moderately_severe": "Modérément sévère",
        "severe": "Sévère",
    },
}


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_every_severity_band_boundary_scores_as_published(client: TestClient, sign_in, locale: str) -> None:
    me = sign_in(locale=locale)
    for code, items, bands in (("phq9", 9, PHQ9_BANDS), ("gad7", 7, GAD7_BANDS)):
        for total, severity in bands:
            answer = client.post(
                f"{URL}/{code}/responses", json={"answers": answers_totalling(total, items)}, headers=me.headers
            )
            assert answer.status_code == 201, answer.text
            scored = answer.json()
            assert (scored["total"], scored["severity"]) == (total, severity), (code, total)
            assert scored["severity_label"] == LABELS[locale][severity]


BAD_ANSWERS = [
    ("phq9", [0] * 8, "PHQ-9 has 9 items; got 8 answers"),
    ("phq9", [0] * 11, "PHQ-9 has 9 items; got 11 answers"),
    ("gad7", [0] * 8, "GAD-7 has 7 items; got 8 answers"),
    ("phq9", [0, 0, 0, 4, 0, 0, 0, 0, 0], "PHQ-9 item 4: the answer must be from 0 to 3; got 4"),
    ("gad7", [0, -1, 0, 0, 0, 0, 0], "GAD-7 item 2: the answer must be from 0 to 3; got -1"),
    ("gad7", [0, "2", 0, 0, 0, 0, 0], "GAD-7 item 2: the answer must be a whole number"),
    ("gad7", [0, 1.5, 0, 0, 0, 0, 0], "GAD-7 item 2: the answer must be a whole number"),
    ("gad7", [True, 0, 0, 0, 0, 0, 0], "GAD-7 item 1: the answer must be a whole number"),
    ("phq9", [0] * 9 + [4], "PHQ-9 difficulty question: the answer must be from 0 to 3; got 4"),
    ("cssrs", cssrs("3"), "C-SSRS item 3 is asked only when item 2 is 'Yes'"),
    ("cssrs", cssrs("6b"), "C-SSRS item 6b is asked only when item 6 is 'Yes'"),
    ("cssrs", [0, 0, 0, 0, 0, 0, 2], "C-SSRS item 6b: the answer must be from 0 to 1; got 2"),
]


@pytest.mark.parametrize(("code", "answers", "detail"), BAD_ANSWERS)
def test_bad_answers_are_refused_with_the_reason_and_nothing_is_written(
    client: TestClient, session: Session, sign_in, code: str, answers: list, detail: str
) -> None:
    me = sign_in()
    before = (count(session, MeasureResponse), count(session, AuditEvent))
    answer = client.post(f"{URL}/{code}/responses", json={"answers": answers}, headers=me.headers)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(detail)
    assert (count(session, MeasureResponse), count(session, AuditEvent)) == before


@pytest.mark.parametrize(
    "body", [{}, {"answers": "0,0,0"}, {"answers": [0] * 9, "score": 3}, {"answers": [0] * 9, "completed_at": "soon"}]
)
def test_malformed_response_bodies_are_refused(client: TestClient, session: Session, sign_in, body: dict) -> None:
    me = sign_in()
    assert client.post(f"{URL}/phq9/responses", json=body, headers=me.headers).status_code == 422
    assert count(session, MeasureResponse) == 0


def test_a_response_dated_in_the_future_is_refused(client: TestClient, session: Session, sign_in, clock: Clock) -> None:
    me = sign_in()
    later = (clock.now + timedelta(hours=1)).isoformat()
    answer = client.post(f"{URL}/phq9/responses", json={"answers": [0] * 9, "completed_at": later}, headers=me.headers)
    assert answer.status_code == 422 and "completed_at is in the future" in answer.json()["detail"]
    assert count(session, MeasureResponse) == 0


def test_a_completed_questionnaire_is_not_due_again_for_fourteen_days(
    client: TestClient, sign_in, clock: Clock
) -> None:
    me = sign_in(timezone="Europe/London")
    clock.set(clock.now.replace(hour=12, minute=0))
    assert client.post(f"{URL}/phq9/responses", json={"answers": [1] * 9}, headers=me.headers).status_code == 201
    phq9 = listed(client, me.headers)["phq9"]
    today = clock.now.date()
    assert not phq9["due"] and phq9["next_due_on"] == (today + timedelta(days=14)).isoformat()
    assert listed(client, me.headers)["gad7"]["due"]
    clock.advance(days=13)
    assert not listed(client, me.headers)["phq9"]["due"]
    clock.advance(days=1)
    assert listed(client, me.headers)["phq9"]["due"]


def test_phq9_item9_of_two_returns_the_crisis_block_and_makes_the_cssrs_due(
    client: TestClient, session: Session, sign_in
) -> None:
    me = sign_in()
    assert "cssrs" not in listed(client, me.headers)
    answer = client.post(f"{URL}/phq9/responses", json={"answers": [1, 1, 1, 1, 0, 0, 0, 0, 2]}, headers=me.headers)
    assert answer.status_code == 201
    scored = answer.json()
    assert scored["risk"]["level"] in ("moderate", "high")
    crisis = scored["crisis"]
    assert crisis["resources"] and crisis["message"]
    assert "not right away" in crisis["care_team_notice"]
    assert scored["follow_up"] == ["cssrs"]
    cssrs_listing = listed(client, me.headers)["cssrs"]
    assert cssrs_listing["due"] and cssrs_listing["reason"] == "phq9_item9"
    stored = session.get(MeasureResponse, scored["id"])
    assert stored is not None and stored.risk_level == scored["risk"]["level"] and stored.risk_engine_version


def test_completing_the_requested_cssrs_closes_the_request(client: TestClient, sign_in) -> None:
    me = sign_in()
    client.post(f"{URL}/phq9/responses", json={"answers": [0, 0, 0, 0, 0, 0, 0, 0, 2]}, headers=me.headers)
    answer = client.post(f"{URL}/cssrs/responses", json={"answers": cssrs("1")}, headers=me.headers)
    assert answer.status_code == 201
    assert answer.json()["severity"] == "low" and answer.json()["total"] is None
    assert "cssrs" not in listed(client, me.headers)


@pytest.mark.parametrize(
    ("yes", "severity"),
    [
        ((), "none"),
        (("1",), "low"),
        (("1", "2", "3"), "moderate"),
        (("6",), "moderate"),
        (("2", "4"), "high"),
        (("2", "5"), "high"),
        (("6", "6b"), "high"),
    ],
)
def test_cssrs_answers_are_triaged_and_risky_ones_bring_crisis_lines(
    client: TestClient, sign_in, yes: tuple[str, ...], severity: str
) -> None:
    me = sign_in()
    scored = client.post(f"{URL}/cssrs/responses", json={"answers": cssrs(*yes)}, headers=me.headers).json()
    assert scored["severity"] == severity
    assert scored["risk"]["level"] == severity
    assert (scored["crisis"] is not None) == (severity in ("moderate", "high"))
    assert (scored["support"] is not None) == (severity == "low")


def test_a_clinician_can_ask_for_the_cssrs_now_and_change_intervals(
    client: TestClient, session: Session, sign_in
) -> None:
    me = sign_in()
    from service.models import Staff

    clinician = session.get(Staff, me.patient.clinician_id)
    assert clinician is not None
    actor = Actor.staff(clinician)
    schedules.set_schedule(
        session, patient=me.patient, instrument="cssrs", actor=actor, interval_days=None, due_now=True
    )
    schedules.set_schedule(session, patient=me.patient, instrument="gad7", actor=actor, interval_days=28)
    schedules.set_schedule(session, patient=me.patient, instrument="phq9", actor=actor, interval_days=14, active=False)
    measures = listed(client, me.headers)
    assert measures["cssrs"]["due"] and measures["cssrs"]["reason"] == "clinician"
    assert measures["gad7"]["interval_days"] == 28
    assert not measures["phq9"]["due"] and measures["phq9"]["next_due_on"] is None
    rows = session.exec(select(MeasureSchedule).where(MeasureSchedule.patient_id == me.patient.id)).all()
    assert {row.updated_by for row in rows} == {clinician.id}
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "measure.schedule_set")).all()
    assert len(events) == 3 and {e.actor_id for e in events} == {clinician.id}


@pytest.mark.parametrize("interval", [0, 366, -14])
def test_a_schedule_interval_must_be_sensible(session: Session, sign_in, interval: int) -> None:
    from service.errors import Invalid

    me = sign_in()
    with pytest.raises(Invalid, match="interval_days must be from 1 to 365"):
        schedules.set_schedule(
            session, patient=me.patient, instrument="phq9", actor=Actor.system("tests"), interval_days=interval
        )
    assert count(session, MeasureSchedule) == 0


def test_a_retried_response_with_the_same_key_creates_one(client: TestClient, session: Session, sign_in) -> None:
    me = sign_in()
    headers = {**me.headers, "Idempotency-Key": "phq9-2026-03-01"}
    body = {"answers": [2] * 9}
    first = client.post(f"{URL}/phq9/responses", json=body, headers=headers)
    retry = client.post(f"{URL}/phq9/responses", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201 and retry.json() == first.json()
    assert count(session, MeasureResponse) == 1
    other = client.post(f"{URL}/gad7/responses", json={"answers": [0] * 7}, headers=headers)
    assert other.status_code == 409


def test_history_is_newest_first_paged_and_private(client: TestClient, sign_in, clock: Clock) -> None:
    me = sign_in(activated_at=clock.now - timedelta(days=30))
    made = []
    for days_ago, total in ((6, 18), (4, 12), (2, 9), (0, 4)):
        when = (clock.now - timedelta(days=days_ago)).isoformat()
        body = {"answers": answers_totalling(total, 9), "completed_at": when}
        made.append(client.post(f"{URL}/phq9/responses", json=body, headers=me.headers).json())
    first = client.get(f"{URL}/phq9/responses", params={"limit": 3}, headers=me.headers)
    second = client.get(
        f"{URL}/phq9/responses", params={"limit": 3, "cursor": first.headers["X-Next-Cursor"]}, headers=me.headers
    )
    assert [r["total"] for r in first.json() + second.json()] == [4, 9, 12, 18]
    assert "X-Next-Cursor" not in second.headers
    ranged = client.get(
        f"{URL}/phq9/responses", params={"from": made[1]["local_date"], "to": made[2]["local_date"]}, headers=me.headers
    )
    assert [r["total"] for r in ranged.json()] == [9, 12]
    assert client.get(f"{URL}/gad7/responses", headers=me.headers).json() == []
    one = client.get(f"{URL}/phq9/responses/{made[0]['id']}", headers=me.headers)
    assert one.status_code == 200 and one.json()["answers"] == answers_totalling(18, 9)
    assert client.get(f"{URL}/gad7/responses/{made[0]['id']}", headers=me.headers).status_code == 404
    stranger = sign_in()
    assert client.get(f"{URL}/phq9/responses/{made[0]['id']}", headers=stranger.headers).status_code == 404
    assert client.get(f"{URL}/phq9/responses", headers=stranger.headers).json() == []


def test_progress_shows_reliable_improvement_and_recovery(client: TestClient, sign_in, clock: Clock) -> None:
    me = sign_in(locale="fr", activated_at=clock.now - timedelta(days=30))
    for days_ago, phq9, gad7 in ((6, 16, 12), (3, 12, 9), (0, 6, 5)):
        when = (clock.now - timedelta(days=days_ago)).isoformat()
        client.post(
            f"{URL}/phq9/responses",
            json={"answers": answers_totalling(phq9, 9), "completed_at": when},
            headers=me.headers,
        )
        client.post(
            f"{URL}/gad7/responses",
            json={"answers": answers_totalling(gad7, 7), "completed_at": when},
            headers=me.headers,
        )
    summary = client.get(f"{URL}/progress", headers=me.headers).json()
    assert summary["phq9"]["baseline"]["score"] == 16 and summary["phq9"]["latest"]["score"] == 6
    assert summary["phq9"]["change"] == -10 and summary["phq9"]["reliable_improvement"]
    assert summary["gad7"]["change"] == -7 and summary["gad7"]["status"] == "reliable_improvement"
    assert summary["phq9"]["latest_severity"] == "mild" and summary["phq9"]["latest_severity_label"] == "Légère"
    assert summary["recovery"]["status"] == "assessed"
    assert summary["recovery"]["recovery"] and summary["recovery"]["reliable_recovery"]
    assert not summary["recovery"]["reliable_deterioration"]


def test_progress_with_no_questionnaires_says_there_is_not_enough_data(client: TestClient, sign_in) -> None:
    me = sign_in()
    summary = client.get(f"{URL}/progress", headers=me.headers).json()
    assert summary["recovery"]["status"] == "insufficient_data"
    assert summary["phq9"]["count"] == 0 and summary["phq9"]["latest_severity"] is None


def test_progress_reports_reliable_deterioration(client: TestClient, session: Session, sign_in, clock: Clock) -> None:
    from service.measures.service import progress

    me = sign_in(activated_at=clock.now - timedelta(days=30))
    for days_ago, total in ((5, 7), (0, 14)):
        when = (clock.now - timedelta(days=days_ago)).isoformat()
        body = {"answers": answers_totalling(total, 9), "completed_at": when}
        assert client.post(f"{URL}/phq9/responses", json=body, headers=me.headers).status_code == 201
    result = progress(session, patient=me.patient)
    assert result.phq9.reliable_deterioration and result.phq9.change == 7
    assert result.recovery.reliable_deterioration


def test_a_response_is_audited_without_its_answers(client: TestClient, session: Session, sign_in) -> None:
    me = sign_in()
    scored = client.post(f"{URL}/gad7/responses", json={"answers": [3] * 7}, headers=me.headers).json()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "measure_response.create")).one()
    assert event.entity_id == scored["id"] and event.actor_id == me.patient.id
    assert "answers" not in event.detail and event.detail["instrument"] == "gad7"


def test_measures_need_a_signed_in_client(client: TestClient) -> None:
    assert client.get(URL).status_code == 401
    assert client.post(f"{URL}/phq9/responses", json={"answers": [0] * 9}).status_code == 401


def test_completed_at_uses_the_patients_calendar(client: TestClient, sign_in, clock: Clock) -> None:
    me = sign_in(timezone="Europe/Paris", activated_at=datetime(2026, 1, 1, tzinfo=UTC))
    clock.set(datetime(2026, 6, 15, 12, 0, tzinfo=UTC))
    body = {"answers": [0] * 7, "completed_at": "2026-06-14T22:30:00Z"}  # 00:30 on 15 June in Paris
    assert client.post(f"{URL}/gad7/responses", json=body, headers=me.headers).json()["local_date"] == "2026-06-15"


def test_reliable_deterioration_since_the_first_phq9_is_a_low_risk_signal(
    client: TestClient, sign_in, clock: Clock
) -> None:
    me = sign_in(activated_at=clock.now - timedelta(days=30))
    earlier = (clock.now - timedelta(days=5)).isoformat()
    first = client.post(
        f"{URL}/phq9/responses", json={"answers": answers_totalling(5, 9), "completed_at": earlier}, headers=me.headers
    ).json()
    assert first["risk"]["level"] == "none"
    five_more = client.post(f"{URL}/phq9/responses", json={"answers": answers_totalling(10, 9)}, headers=me.headers)
    assert five_more.json()["risk"]["level"] == "none"  # +5 is within measurement error
    six_more = client.post(f"{URL}/phq9/responses", json={"answers": answers_totalling(11, 9)}, headers=me.headers)
    scored = six_more.json()
    assert scored["risk"] == {"level": "low", "categories": ["reliable_deterioration"]}
    assert scored["support"] is not None and scored["crisis"] is None


def test_the_progress_definition_and_export_bodies_are_typed_in_the_api_description(
    client: TestClient, sign_in
) -> None:
    me = sign_in()
    spec = client.get("/api/openapi.json").json()
    for path, model in (
        ("/v1/measures/progress", "ProgressOut"),
        ("/v1/measures/{code}", "MeasureDefinition"),
        ("/v1/me/export", "ClientExport"),
    ):
        body = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert body["$ref"].endswith(f"/{model}"), path
    # Keys without a value stay absent, as before the model: skip logic only where a question has it.
    cssrs = client.get(f"{URL}/cssrs", headers=me.headers).json()
    assert "ask_if" not in cssrs["items"][0] and cssrs["items"][2]["ask_if"] == {"item": "2", "answer": 1}
    assert "difficulty_item" not in client.get(f"{URL}/gad7", headers=me.headers).json()
    assert client.get(f"{URL}/progress", headers=me.headers).json()["phq9"]["status"] == "insufficient_data"
