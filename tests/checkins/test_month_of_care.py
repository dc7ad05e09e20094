"""A client app used for a month: daily check-ins and fortnightly PHQ-9 and GAD-7, all through the API.

The clock moves day by day; each request is dated by the app with `recorded_at` / `completed_at`
as a phone would (a few minutes before the server receives it). Chicago switches to summer time
on 8 March 2026, inside the month, so local dates are checked across a DST change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.checkins.fixtures import Clock

ZONE = ZoneInfo("America/Chicago")
FIRST_DAY = date(2026, 3, 1)
DAYS = 30
# Mood climbs from 3 to 7 over the month as therapy takes hold; anxiety falls.
MOODS = [3 + (4 * day) // (DAYS - 1) for day in range(DAYS)]
ANXIETY = [8 - (5 * day) // (DAYS - 1) for day in range(DAYS)]
# Fortnightly totals: days 0, 14 and 28.
PHQ9 = {0: [2, 2, 2, 2, 1, 2, 2, 1, 0], 14: [1, 2, 1, 1, 1, 1, 1, 1, 0], 28: [1, 1, 0, 1, 0, 1, 0, 0, 0]}
GAD7 = {0: [2, 2, 2, 2, 1, 2, 1], 14: [1, 2, 1, 1, 1, 1, 1], 28: [1, 1, 0, 1, 0, 1, 0]}
NOTES = ["Long day at work.", "Saw friends, felt lighter.", "", "Slept badly again.", "Walked to the park."]


def evening(day: int) -> datetime:
    local = datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), ZONE).replace(hour=20)
    return local.astimezone(UTC)


def test_a_month_of_daily_checkins_and_fortnightly_questionnaires(client: TestClient, sign_in, clock: Clock) -> None:
    me = sign_in(timezone="America/Chicago", activated_at=datetime(2026, 3, 1, 14, 0, tzinfo=UTC))
    answers = []
    for day in range(DAYS):
        sent_at = evening(day)
        clock.set(sent_at + timedelta(minutes=3))
        body = {
            "mood": MOODS[day],
            "anxiety": ANXIETY[day],
            "sleep_hours": 6 + (day % 4) * 0.5,
            "energy": min(10, 2 + day // 5),
            "note": NOTES[day % len(NOTES)],
            "tags": ["work"] if day % 7 < 5 else ["family", "exercise"],
            "recorded_at": sent_at.isoformat(),
        }
        headers = {**me.headers, "Idempotency-Key": f"checkin-{day}"}
        answer = client.post("/api/v1/checkins", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        if day == 10:  # the phone lost the answer and sent the same request again
            assert client.post("/api/v1/checkins", json=body, headers=headers).json() == answer.json()
        answers.append(answer.json())

        due = {m["code"]: m for m in client.get("/api/v1/measures", headers=me.headers).json()}
        assert due["phq9"]["due"] == (day in PHQ9), day
        assert due["gad7"]["due"] == (day in GAD7), day
        if day in PHQ9:
            for code, items in (("phq9", PHQ9[day]), ("gad7", GAD7[day])):
                body = {"answers": items, "completed_at": sent_at.isoformat()}
                scored = client.post(f"/api/v1/measures/{code}/responses", json=body, headers=me.headers)
                assert scored.status_code == 201 and scored.json()["crisis"] is None
            after = {m["code"]: m for m in client.get("/api/v1/measures", headers=me.headers).json()}
            assert not after["phq9"]["due"]
            assert after["phq9"]["next_due_on"] == (FIRST_DAY + timedelta(days=day + 14)).isoformat()

    # Each check-in is on its own evening in Chicago, before and after the change to summer time.
    assert [a["local_date"] for a in answers] == [(FIRST_DAY + timedelta(days=d)).isoformat() for d in range(DAYS)]
    assert all(a["risk"]["level"] == "none" and a["crisis"] is None for a in answers)

    history, cursor = [], None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/checkins", params=params, headers=me.headers)
        history += page.json()
        cursor = page.headers.get("X-Next-Cursor")
        if cursor is None:
            break
    assert [c["id"] for c in history] == [a["id"] for a in reversed(answers)]  # 30, not 31: the retry wrote nothing

    trend = client.get("/api/v1/checkins/trends", params={"days": DAYS}, headers=me.headers).json()
    mood = trend["metrics"]["mood"]
    assert [p["value"] for p in mood] == [float(m) for m in MOODS]
    assert mood[-1]["mean_7"] == sum(MOODS[-7:]) / 7
    assert mood[-1]["mean_28"] == sum(MOODS[-28:]) / 28
    assert trend["metrics"]["anxiety"][0]["value"] == 8.0 and trend["metrics"]["anxiety"][-1]["value"] == 3.0

    phq9_history = client.get("/api/v1/measures/phq9/responses", headers=me.headers).json()
    assert [r["total"] for r in phq9_history] == [4, 9, 14]
    assert [r["severity"] for r in phq9_history] == ["minimal", "mild", "moderate"]

    progress = client.get("/api/v1/measures/progress", headers=me.headers).json()
    assert progress["phq9"]["change"] == -10 and progress["phq9"]["reliable_improvement"]
    assert progress["gad7"]["baseline"]["score"] == 12 and progress["gad7"]["latest"]["score"] == 4
    assert progress["recovery"]["recovery"] and progress["recovery"]["reliable_recovery"]

    export = client.get("/api/v1/me/export", headers=me.headers).json()
    assert len(export["checkins"]) == DAYS and len(export["measure_responses"]) == 6
