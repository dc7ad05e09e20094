"""Check-ins through the client API: what a client sends, what they get back, and what is stored."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, text
from sqlmodel import Session, select

from service.models import AuditEvent, CheckIn, IdempotencyKey
from tests.checkins.fixtures import Clock

URL = "/api/v1/checkins"


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def at(moment: datetime) -> str:
    return moment.isoformat()


def test_a_checkin_comes_back_with_every_field_and_no_risk(client: TestClient, sign_in) -> None:
    me = sign_in()
    body = {
        "mood": 6,
        "anxiety": 3,
        "sleep_hours": 7.25,
        "energy": 5,
        "note": "Good walk by the river.",
        "tags": ["exercise", "weather"],
    }
    answer = client.post(URL, json=body, headers=me.headers)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert {k: created[k] for k in body} == body
    assert created["risk"] == {"level": "none", "categories": []}
    assert created["crisis"] is None and created["support"] is None
    assert client.get(f"{URL}/{created['id']}", headers=me.headers).json()["note"] == "Good walk by the river."


def test_the_local_date_is_the_patients_calendar_date(client: TestClient, sign_in, clock: Clock) -> None:
    me = sign_in(timezone="America/New_York", activated_at=datetime(2026, 3, 1, tzinfo=UTC))
    clock.set(datetime(2026, 3, 10, 13, 0, tzinfo=UTC))
    # 02:30 UTC on 10 March is still the evening of 9 March in New York.
    late_evening = client.post(URL, json={"mood": 4, "recorded_at": "2026-03-10T02:30:00Z"}, headers=me.headers)
    next_morning = client.post(URL, json={"mood": 5, "recorded_at": "2026-03-10T08:15:00-04:00"}, headers=me.headers)
    assert late_evening.json()["local_date"] == "2026-03-09"
    assert next_morning.json()["local_date"] == "2026-03-10"
    assert next_morning.json()["recorded_at"] == "2026-03-10T12:15:00Z"


@pytest.fixture
def activated_long_ago(sign_in):  # type: ignore[no-untyped-def]
    return sign_in(activated_at=datetime(2020, 1, 1, tzinfo=UTC))


def test_a_client_may_check_in_several_times_a_day(client: TestClient, session: Session, sign_in) -> None:
    me = sign_in()
    for mood in (3, 5, 8):
        assert client.post(URL, json={"mood": mood}, headers=me.headers).status_code == 201
    listed = client.get(URL, headers=me.headers).json()
    assert [c["mood"] for c in listed] == [8, 5, 3]
    assert len({c["local_date"] for c in listed}) == 1


def test_the_note_is_encrypted_at_rest(client: TestClient, session: Session, sign_in) -> None:
    me = sign_in()
    note = "Argued with my sister about the flat."
    created = client.post(URL, json={"mood": 4, "note": note}, headers=me.headers).json()
    stored = session.execute(text("SELECT note FROM checkin WHERE id = :id"), {"id": created["id"]}).scalar_one()
    assert note not in stored and "sister" not in stored
    assert session.get(CheckIn, created["id"]).note == note  # type: ignore[union-attr]


def test_a_checkin_is_audited_without_the_clients_words(client: TestClient, session: Session, sign_in) -> None:
    me = sign_in()
    created = client.post(URL, json={"mood": 4, "note": "Secret words about my boss"}, headers=me.headers).json()
    event = session.exec(
        select(AuditEvent).where(AuditEvent.action == "checkin.create", AuditEvent.entity_id == created["id"])
    ).one()
    assert event.patient_id == me.patient.id and event.actor_type == "client"
    assert "boss" not in str(event.detail)


BAD_CHECKINS = [
    ({"mood": 11}, "less than or equal to 10"),
    ({"mood": -1}, "greater than or equal to 0"),
    ({"mood": "5"}, "valid integer"),
    ({"mood": 5.5}, "valid integer"),
    ({"mood": True}, "valid integer"),
    ({}, "Field required"),
    ({"mood": 5, "anxiety": 12}, "less than or equal to 10"),
    ({"mood": 5, "energy": -3}, "greater than or equal to 0"),
    ({"mood": 5, "sleep_hours": 24.5}, "less than or equal to 24"),
    ({"mood": 5, "sleep_hours": -1}, "greater than or equal to 0"),
    ({"mood": 5, "sleep_hours": "7"}, "sleep_hours must be a number"),
    ({"mood": 5, "note": "x" * 2001}, "at most 2000 characters"),
    ({"mood": 5, "note": 42}, "valid string"),
    ({"mood": 5, "tags": ["work", "astrology"]}, "unknown tag 'astrology'"),
    ({"mood": 5, "tags": "work"}, "valid list"),
    ({"mood": 5, "tags": [1]}, "tag codes"),
    ({"mood": 5, "recorded_at": "yesterday"}, "valid datetime"),
    ({"mood": 5, "recorded_at": "2026-03-01T08:30:00"}, "must include a UTC offset"),
    # A timedelta stands for "that long before the clock's now".
    ({"mood": 5, "recorded_at": timedelta(minutes=-10)}, "in the future"),
    ({"mood": 5, "recorded_at": timedelta(days=8)}, "more than 7 days ago"),
    ({"mood": 5, "colour": "blue"}, "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("body", "detail"), BAD_CHECKINS)
def test_bad_checkins_are_refused_with_a_reason_and_nothing_is_written(
    client: TestClient, session: Session, activated_long_ago, clock: Clock, body: dict, detail: str
) -> None:
    me = activated_long_ago
    if isinstance(body.get("recorded_at"), timedelta):
        body = {**body, "recorded_at": at(clock.now - body["recorded_at"])}
    before = (count(session, CheckIn), count(session, AuditEvent))
    answer = client.post(URL, json=body, headers=me.headers)
    assert 400 <= answer.status_code < 500
    assert detail in str(answer.json()["detail"])
    assert (count(session, CheckIn), count(session, AuditEvent)) == before


def test_recorded_at_may_run_up_to_five_minutes_ahead_and_back_seven_days(
    client: TestClient, activated_long_ago, clock: Clock
) -> None:
    me = activated_long_ago
    ahead = client.post(URL, json={"mood": 5, "recorded_at": at(clock.now + timedelta(minutes=4))}, headers=me.headers)
    back = client.post(
        URL, json={"mood": 5, "recorded_at": at(clock.now - timedelta(days=6, hours=23))}, headers=me.headers
    )
    assert ahead.status_code == back.status_code == 201


def test_a_checkin_cannot_predate_the_account(client: TestClient, session: Session, sign_in, clock: Clock) -> None:
    me = sign_in()
    answer = client.post(URL, json={"mood": 5, "recorded_at": at(clock.now - timedelta(days=1))}, headers=me.headers)
    assert answer.status_code == 422 and "before the account was activated" in answer.json()["detail"]


def test_a_retried_checkin_with_the_same_key_creates_one_row(client: TestClient, session: Session, sign_in) -> None:
    me = sign_in()
    headers = {**me.headers, "Idempotency-Key": "7d0c2a8e-1f4b-4d7e-9a51-3b8f2c6d9e10"}
    body = {"mood": 3, "note": "Rough night.", "tags": ["sleep"]}
    first = client.post(URL, json=body, headers=headers)
    retry = client.post(URL, json=body, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert count(session, CheckIn) == 1
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "checkin.create")).all()) == 1


def test_a_replayed_key_returns_the_crisis_block_again(client: TestClient, session: Session, sign_in) -> None:
    me = sign_in()
    headers = {**me.headers, "Idempotency-Key": "retry-after-timeout-0001"}
    body = {"mood": 1, "note": "I want to kill myself tonight."}
    first = client.post(URL, json=body, headers=headers).json()
    retry = client.post(URL, json=body, headers=headers).json()
    assert first["crisis"] is not None and retry == first
    assert count(session, CheckIn) == 1


def test_the_same_key_with_a_different_body_is_a_conflict(client: TestClient, session: Session, sign_in) -> None:
    me = sign_in()
    headers = {**me.headers, "Idempotency-Key": "key-0001"}
    assert client.post(URL, json={"mood": 3}, headers=headers).status_code == 201
    clash = client.post(URL, json={"mood": 4}, headers=headers)
    assert clash.status_code == 409 and "different request" in clash.json()["detail"]
    assert count(session, CheckIn) == 1


def test_idempotency_keys_belong_to_one_client(client: TestClient, session: Session, sign_in) -> None:
    first, second = sign_in(), sign_in()
    for me in (first, second):
        answer = client.post(URL, json={"mood": 5}, headers={**me.headers, "Idempotency-Key": "shared-key-1"})
        assert answer.status_code == 201
    assert count(session, CheckIn) == 2 and count(session, IdempotencyKey) == 2


def test_a_malformed_idempotency_key_is_refused(client: TestClient, session: Session, sign_in) -> None:
    me = sign_in()
    answer = client.post(URL, json={"mood": 5}, headers={**me.headers, "Idempotency-Key": "x" * 201})
    assert answer.status_code == 422 and "Idempotency-Key" in answer.json()["detail"]
    assert count(session, CheckIn) == 0


def _seed_days(client: TestClient, me, clock: Clock, moods: list[int]) -> list[dict]:  # type: ignore[no-untyped-def]
    """One check-in per day, oldest first, ending today; returns the answers."""
    made = []
    start = clock.now - timedelta(days=len(moods) - 1)
    for offset, mood in enumerate(moods):
        recorded = start + timedelta(days=offset)
        made.append(client.post(URL, json={"mood": mood, "recorded_at": at(recorded)}, headers=me.headers).json())
    return made


def test_checkins_are_listed_newest_first_page_by_page(client: TestClient, activated_long_ago, clock: Clock) -> None:
    me = activated_long_ago
    made = _seed_days(client, me, clock, [1, 2, 3, 4, 5])
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(URL, params=params, headers=me.headers)
        assert page.status_code == 200
        seen += page.json()
        pages += 1
        cursor = page.headers.get("X-Next-Cursor")
        if cursor is None:
            break
        assert 'rel="next"' in page.headers["Link"]
    assert pages == 3
    assert [c["id"] for c in seen] == [c["id"] for c in reversed(made)]


def test_checkins_can_be_listed_for_a_range_of_local_dates(
    client: TestClient, activated_long_ago, clock: Clock
) -> None:
    me = activated_long_ago
    made = _seed_days(client, me, clock, [1, 2, 3, 4, 5])
    days = [c["local_date"] for c in made]
    answer = client.get(URL, params={"from": days[1], "to": days[3]}, headers=me.headers)
    assert [c["local_date"] for c in answer.json()] == list(reversed(days[1:4]))
    reversed_range = client.get(URL, params={"from": days[3], "to": days[1]}, headers=me.headers)
    assert reversed_range.status_code == 422


@pytest.mark.parametrize("params", [{"cursor": "not-a-cursor"}, {"limit": 0}, {"limit": 101}, {"from": "2026-02-30"}])
def test_bad_list_parameters_are_refused(client: TestClient, sign_in, params: dict) -> None:
    me = sign_in()
    answer = client.get(URL, params=params, headers=me.headers)
    assert answer.status_code == 422 and answer.json()["detail"]


def test_another_clients_checkin_is_not_found(client: TestClient, sign_in) -> None:
    owner, other = sign_in(), sign_in()
    created = client.post(URL, json={"mood": 5, "note": "mine"}, headers=owner.headers).json()
    assert client.get(f"{URL}/{created['id']}", headers=other.headers).status_code == 404
    assert client.get(URL, headers=other.headers).json() == []


def test_checkins_need_a_signed_in_client(client: TestClient) -> None:
    assert client.post(URL, json={"mood": 5}).status_code == 401
    assert client.get(URL).status_code == 401


def test_trends_give_daily_means_and_rolling_means(client: TestClient, activated_long_ago, clock: Clock) -> None:
    me = activated_long_ago
    today = clock.now
    for days_ago, mood, sleep in ((2, 4, 6.0), (2, 6, 7.0), (0, 8, 8.5)):
        moment = today - timedelta(days=days_ago, minutes=1)
        body = {"mood": mood, "sleep_hours": sleep, "recorded_at": at(moment)}
        assert client.post(URL, json=body, headers=me.headers).status_code == 201
    trend = client.get(f"{URL}/trends", params={"days": 3}, headers=me.headers).json()
    mood = trend["metrics"]["mood"]
    assert [p["value"] for p in mood] == [5.0, None, 8.0]  # two check-ins on the first day average to 5
    assert mood[-1]["mean_7"] == 6.5 and mood[-1]["mean_28"] == 6.5
    assert trend["metrics"]["sleep_hours"][0]["value"] == 6.5
    assert all(p["value"] is None for p in trend["metrics"]["energy"])
    assert trend["timezone"] == "America/New_York" and len(mood) == 3


def test_trends_accept_a_date_range_and_default_to_28_days(client: TestClient, sign_in) -> None:
    me = sign_in()
    default = client.get(f"{URL}/trends", headers=me.headers).json()
    assert len(default["metrics"]["mood"]) == 28
    ranged = client.get(f"{URL}/trends", params={"from": "2026-01-01", "to": "2026-01-31"}, headers=me.headers).json()
    assert ranged["start"] == "2026-01-01" and len(ranged["metrics"]["anxiety"]) == 31


@pytest.mark.parametrize(
    "params",
    [
        {"days": 0},
        {"days": 400},
        {"days": 7, "from": "2026-01-01"},
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"from": "2024-01-01", "to": "2026-01-01"},
    ],
)
def test_bad_trend_parameters_are_refused(client: TestClient, sign_in, params: dict) -> None:
    me = sign_in()
    assert client.get(f"{URL}/trends", params=params, headers=me.headers).status_code == 422


def test_tags_are_offered_in_the_clients_language(client: TestClient, sign_in) -> None:
    french = sign_in(locale="fr", country="FR", timezone="Europe/Paris")
    tags = {t["code"]: t["label"] for t in client.get(f"{URL}/tags", headers=french.headers).json()}
    assert tags["work"] == "Travail" and tags["health"] == "Santé" and tags["weather"] == "Météo"
    english = sign_in()
    assert {t["code"]: t["label"] for t in client.get(f"{URL}/tags", headers=english.headers).json()}["work"] == "Work"


def test_repeated_tags_are_kept_once(client: TestClient, sign_in) -> None:
    me = sign_in()
    created = client.post(URL, json={"mood": 5, "tags": ["work", "family", "work"]}, headers=me.headers).json()
    assert created["tags"] == ["work", "family"]


def test_the_export_holds_checkins_and_questionnaires(client: TestClient, sign_in) -> None:
    me = sign_in()
    client.post(URL, json={"mood": 5, "note": "Export me"}, headers=me.headers)
    client.post("/api/v1/measures/gad7/responses", json={"answers": [1, 1, 1, 1, 1, 1, 1]}, headers=me.headers)
    data = client.get("/api/v1/me/export", headers=me.headers).json()
    assert [c["note"] for c in data["checkins"]] == ["Export me"]
    assert data["measure_responses"][0]["instrument"] == "gad7" and data["measure_responses"][0]["total"] == 7


def test_the_local_date_helper_uses_the_patients_zone(sign_in) -> None:
    from service.kit.timing import local_date

    me = sign_in(timezone="Pacific/Auckland")
    assert local_date(datetime(2026, 6, 30, 13, 0, tzinfo=UTC), me.patient) == date(2026, 7, 1)


def test_two_simultaneous_requests_with_one_key_still_create_one_checkin(
    client: TestClient, session: Session, sign_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.kit import idempotency

    me = sign_in()
    headers = {**me.headers, "Idempotency-Key": "double-tap-1"}
    body = {"mood": 4, "note": "Sent twice by a double tap."}
    first = client.post(URL, json=body, headers=headers).json()
    # The twin looked the key up before the first request committed, so it saw nothing.
    real_lookup = idempotency.lookup
    calls = {"n": 0}

    def late_lookup(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return None if calls["n"] == 1 else real_lookup(*args, **kwargs)

    monkeypatch.setattr(idempotency, "lookup", late_lookup)
    twin = client.post(URL, json=body, headers=headers)
    assert twin.status_code == 201 and twin.json() == first
    assert calls["n"] == 2 and count(session, CheckIn) == 1
