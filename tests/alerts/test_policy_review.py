"""The reviewed alert policy: combinations raise severity, every rule says why, and the client is
told when the team will see it from the alert's actual severity and the clinic's hours."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from service.alerts import lifecycle
from service.alerts.policy import _PATH, policy
from service.alerts.timing import care_team_timing
from service.db import unit_of_work
from service.models import Severity
from service.risk import Evidence, RiskLevel, RiskResult
from tests.factories import active_patient, create_clinic, invite_patient


def _result(level: RiskLevel, *categories: str) -> RiskResult:
    evidence = tuple(Evidence(f"en.{c}.test", c, f"words for {c}", level) for c in categories)
    return RiskResult(level, categories, evidence, "tests")


def _raise(session: Session, patient, result: RiskResult, source: str = "checkin"):  # type: ignore[no-untyped-def]
    with unit_of_work(session):
        return lifecycle.raise_for(session, patient=patient, source_type=source, source_id="s1", result=result)


def test_every_combination_says_why_and_names_known_severities() -> None:
    data = tomllib.loads(_PATH.read_text(encoding="utf-8"))
    assert {c["id"] for c in data["combinations"]} == {c.id for c in policy().combinations}
    for combo in policy().combinations:
        assert len(combo.why) > 40 and combo.conditions


def test_item9_with_reliable_deterioration_is_priority_not_routine(session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = invite_patient(session, setup)
    alone = _raise(session, patient, _result(RiskLevel.LOW, "phq9_item9"), "measure_response")
    assert alone.severity == "routine"
    other, _ = invite_patient(session, setup, name="Other")
    both = _raise(session, other, _result(RiskLevel.LOW, "phq9_item9", "reliable_deterioration"), "measure_response")
    assert both.severity == "priority"
    [created] = [e for e in lifecycle.history(session, alert=both) if e.kind == "created"]
    assert created.detail["combination"] == "item9_with_deterioration"


def test_item9_then_a_moderate_note_within_14_days_raises_the_item9_alert_to_priority(session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = invite_patient(session, setup)
    first = _raise(session, patient, _result(RiskLevel.LOW, "phq9_item9"), "measure_response")
    assert first.severity == "routine"
    later = _raise(session, patient, _result(RiskLevel.LOW, "passive_ideation"), "checkin")
    assert later.id == first.id and later.severity == "routine"  # a low note is not enough
    raised = _raise(session, patient, _result(RiskLevel.MODERATE, "self_harm"), "checkin")
    assert raised.severity == "priority"  # its own level already says priority
    session.refresh(first)
    assert first.severity == "routine"  # the item-9 alert keeps its reason; the new one is priority


def test_a_method_after_preparation_is_urgent(session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = invite_patient(session, setup)
    prepared = _raise(session, patient, _result(RiskLevel.MODERATE, "preparation"))
    assert prepared.severity == "priority"
    method = _raise(session, patient, _result(RiskLevel.MODERATE, "method"))
    assert method.id == prepared.id and method.severity == "urgent"
    raised = [e for e in lifecycle.history(session, alert=method) if e.kind == "severity_raised"]
    assert raised[-1].detail == {"from": "priority", "to": "urgent", "combination": "method_with_intent_or_preparation"}


@pytest.mark.parametrize(
    ("now", "severity", "key", "values"),
    [
        # Tuesday 1 December 2026, New York; the clinic is open 09:00-17:00 on weekdays.
        (datetime(2026, 12, 1, 15, 0, tzinfo=UTC), Severity.URGENT, "urgent_open", {"minutes": "15"}),
        (datetime(2026, 12, 2, 3, 0, tzinfo=UTC), Severity.URGENT, "urgent_closed", {"when": "Wednesday 09:00"}),
        (datetime(2026, 12, 1, 15, 0, tzinfo=UTC), Severity.PRIORITY, "priority_open", {"hours": "4"}),
        (datetime(2026, 12, 1, 20, 0, tzinfo=UTC), Severity.PRIORITY, "next_opening", {"when": "Wednesday 09:00"}),
        (datetime(2026, 12, 4, 15, 0, tzinfo=UTC), Severity.ROUTINE, "routine", {"day": "Monday"}),
    ],
)
def test_when_the_team_will_see_it_follows_severity_and_opening_hours(
    session: Session, now: datetime, severity: Severity, key: str, values: dict[str, str]
) -> None:
    setup = create_clinic(session, timezone="America/New_York")
    patient, _ = invite_patient(session, setup)
    patient.timezone = "America/New_York"
    assert care_team_timing(setup.clinic, patient, severity, now) == (key, values)


def test_a_low_note_while_an_urgent_alert_is_open_does_not_promise_the_next_working_day(
    client, session: Session
) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import bearer

    setup = create_clinic(session)
    _, tokens = active_patient(session, setup)
    headers = bearer(tokens)
    low = client.post(
        "/api/v1/checkins", json={"mood": 4, "note": "sometimes I wish I could sleep and not wake up"}, headers=headers
    )
    assert low.json()["risk"]["level"] == "low"
    assert "next working day" in low.json()["support"]["message"]
    # The urgent alert comes from the C-SSRS (intent): a goodbye note in the same 72 hours would make
    # the notes high together (tests/alerts/test_exchange.py), and the answer a crisis block.
    urgent = client.post("/api/v1/measures/cssrs/responses", json={"answers": [0, 1, 0, 1, 0, 0, 0]}, headers=headers)
    assert urgent.status_code == 201 and urgent.json()["crisis"] is not None
    again = client.post(
        "/api/v1/checkins", json={"mood": 4, "note": "sometimes I wish I could sleep and not wake up"}, headers=headers
    )
    message = again.json()["support"]["message"]
    assert "next working day" not in message
    assert "15 minutes" in message or "clinic is closed now" in message
