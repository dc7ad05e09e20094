"""Check-in reminders: the client's local times and days, quiet hours, once each, across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.models import OutboxMessage, PatientStatus, ReminderPreference
from service.reminders.service import due_slots, queue_due_reminders
from tests.factories import active_patient, bearer, create_clinic

WINDOW = timedelta(minutes=30)


def _pref(**values: object) -> ReminderPreference:
    base: dict[str, object] = {"patient_id": "p", "enabled": True, "times": ["08:30"], "days": [1, 2, 3, 4, 5, 6, 7]}
    base.update(values)
    return ReminderPreference(**base)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_a_reminder_falls_at_the_clients_local_time() -> None:
    pref = _pref()
    # 08:30 in Paris in winter is 07:30 UTC.
    assert due_slots(pref, "Europe/Paris", _at("2026-01-14T07:29:00+00:00"), WINDOW) == []
    [slot] = due_slots(pref, "Europe/Paris", _at("2026-01-14T07:31:00+00:00"), WINDOW)
    assert slot.clock == "08:30" and slot.at == _at("2026-01-14T07:30:00+00:00")
    assert due_slots(pref, "Europe/Paris", _at("2026-01-14T08:05:00+00:00"), WINDOW) == []  # too late now


def test_only_on_the_chosen_weekdays() -> None:
    pref = _pref(days=[1])  # Mondays; 2026-01-14 is a Wednesday
    assert due_slots(pref, "UTC", _at("2026-01-14T08:31:00+00:00"), WINDOW) == []
    assert len(due_slots(pref, "UTC", _at("2026-01-12T08:31:00+00:00"), WINDOW)) == 1


def test_quiet_hours_across_midnight_silence_a_reminder() -> None:
    pref = _pref(times=["23:00", "12:00"], quiet_start="22:00", quiet_end="07:00")
    assert due_slots(pref, "UTC", _at("2026-01-14T23:01:00+00:00"), WINDOW) == []
    assert len(due_slots(pref, "UTC", _at("2026-01-14T12:01:00+00:00"), WINDOW)) == 1


def test_a_time_skipped_by_spring_forward_is_sent_after_the_gap() -> None:
    pref = _pref(times=["02:30"])
    # Paris, 29 March 2026: 02:00 jumps to 03:00 (01:00 UTC). 02:30 does not exist: sent at 03:30 local.
    [slot] = due_slots(pref, "Europe/Paris", _at("2026-03-29T01:31:00+00:00"), WINDOW)
    assert slot.at == _at("2026-03-29T03:30:00+02:00")


def test_a_time_repeated_when_clocks_go_back_is_sent_once(database_url: str, session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = active_patient(session, setup)
    patient.timezone = "Europe/Paris"
    session.add(patient)
    session.add(_pref(patient_id=patient.id, times=["02:30"], email_fallback=True))
    session.commit()
    # 25 October 2026: 03:00 CEST goes back to 02:00 CET; 02:30 happens at 00:30 and again at 01:30 UTC.
    sent = 0
    moment = _at("2026-10-25T00:00:00+00:00")
    while moment < _at("2026-10-25T03:00:00+00:00"):
        sent += queue_due_reminders(session, now=moment)
        moment += timedelta(minutes=1)
    assert sent == 1
    rows = session.exec(select(OutboxMessage)).all()
    assert [r.kind for r in rows] == ["email"] and rows[0].recipient == "pat@example.org"
    assert "Time for your check-in" in rows[0].payload["subject"]


def test_each_reminder_goes_once_however_often_the_job_runs(database_url: str, session: Session) -> None:
    patient, _ = active_patient(session, create_clinic(session))
    patient.timezone = "UTC"
    session.add(patient)
    session.add(_pref(patient_id=patient.id, times=["09:00"]))
    session.commit()
    now = _at("2026-02-03T09:00:30+00:00")
    assert queue_due_reminders(session, now=now) == 1
    assert queue_due_reminders(session, now=now + timedelta(minutes=5)) == 0
    assert queue_due_reminders(session, now=now + timedelta(days=1)) == 1  # the next day is a new reminder


@pytest.mark.parametrize("status", [PatientStatus.PAUSED, PatientStatus.DISCHARGED])
def test_reminders_stop_while_care_is_paused_or_after_discharge(
    database_url: str, session: Session, status: PatientStatus
) -> None:
    patient, _ = active_patient(session, create_clinic(session))
    patient.timezone = "UTC"
    patient.status = status
    session.add(patient)
    session.add(_pref(patient_id=patient.id, times=["09:00"]))
    session.commit()
    assert queue_due_reminders(session, now=_at("2026-02-03T09:00:30+00:00")) == 0


def test_a_client_saves_reminder_settings_through_the_api(client: TestClient, session: Session) -> None:
    _, tokens = active_patient(session, create_clinic(session))
    default = client.get("/api/v1/me/reminders", headers=bearer(tokens)).json()
    assert default["enabled"] is False and default["push_devices"] == 0
    body = {
        "enabled": True,
        "times": ["20:00", "08:15"],
        "days": [1, 3, 5],
        "quiet_start": "22:00",
        "quiet_end": "07:00",
    }
    saved = client.put("/api/v1/me/reminders", json=body, headers=bearer(tokens))
    assert saved.status_code == 200, saved.text
    assert saved.json()["times"] == ["08:15", "20:00"] and saved.json()["timezone"] == "America/New_York"
    assert client.get("/api/v1/me/reminders", headers=bearer(tokens)).json()["days"] == [1, 3, 5]
    for bad in (
        {**body, "times": ["25:00"]},
        {**body, "days": [0]},
        {**body, "quiet_end": None},
        {**body, "times": []},
        {**body, "surprise": 1},
    ):
        assert client.put("/api/v1/me/reminders", json=bad, headers=bearer(tokens)).status_code == 422, bad
