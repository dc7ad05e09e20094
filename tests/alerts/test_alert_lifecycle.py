from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.alerts import escalation, lifecycle
from service.db import unit_of_work
from service.errors import Conflict, Invalid, NotFound
from service.models import Alert, AlertEvent, AuditEvent, OutboxMessage, Staff
from service.models.base import utcnow
from service.notify import deliver_due
from service.onboarding import staff as staff_service
from service.risk import Evidence, RiskLevel, RiskResult
from tests.factories import SYSTEM, create_clinic, invite_patient

VERSION = "tests"


def result(level: RiskLevel, category: str = "intent", words: str = "I will end it tonight") -> RiskResult:
    return RiskResult(level, (category,), (Evidence(f"en.{category}.1", category, words, level),), VERSION)


def _raise(session: Session, patient, level: RiskLevel, category: str = "intent", **kwargs):  # type: ignore[no-untyped-def]
    with unit_of_work(session):
        return lifecycle.raise_for(
            session, patient=patient, source_type="checkin", source_id="c1", result=result(level, category), **kwargs
        )


def test_high_risk_opens_an_urgent_alert_for_the_patients_clinician(session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = invite_patient(session, setup)
    alert = _raise(session, patient, RiskLevel.HIGH)
    assert alert.severity == "urgent" and alert.status == "open" and alert.assigned_to == setup.clinician.id
    assert alert.ack_deadline_at - alert.created_at == timedelta(minutes=15)
    [signal] = lifecycle.signals(session, alert=alert)
    assert signal["evidence"][0]["text"] == "I will end it tonight"
    assert {e.kind for e in lifecycle.history(session, alert=alert)} == {"created", "signal"}
    email = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "email")).one()
    assert email.recipient == setup.clinician.email
    assert "end it" not in email.payload["text"] and "/portal/alerts/" in email.payload["text"]


def test_no_alert_below_low(session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = invite_patient(session, setup)
    assert _raise(session, patient, RiskLevel.NONE) is None
    assert session.exec(select(Alert)).all() == []


def test_later_signals_attach_to_the_open_alert_and_can_raise_its_severity(session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = invite_patient(session, setup)
    first = _raise(session, patient, RiskLevel.LOW, "passive_ideation")
    assert first.severity == "routine"
    second = _raise(session, patient, RiskLevel.HIGH, "plan")
    assert second.id == first.id and second.severity == "urgent"
    assert len(lifecycle.signals(session, alert=second)) == 2
    assert "severity_raised" in [e.kind for e in lifecycle.history(session, alert=second)]
    other_reason = _raise(session, patient, RiskLevel.HIGH, "harm_to_others")
    assert other_reason.id != first.id
    # Two emails for the suicide-risk alert (routine, then urgent) and one for harm to others.
    assert len(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "email")).all()) == 3


def test_acknowledge_and_resolve_record_who_when_and_how(session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = invite_patient(session, setup)
    alert = _raise(session, patient, RiskLevel.MODERATE, "method")
    lifecycle.acknowledge(session, alert_id=alert.id, staff=setup.clinician)
    with pytest.raises(Conflict):
        lifecycle.acknowledge(session, alert_id=alert.id, staff=setup.clinician)
    with pytest.raises(Invalid):
        lifecycle.resolve(session, alert_id=alert.id, staff=setup.clinician, resolution="other")
    with pytest.raises(Invalid):
        lifecycle.resolve(session, alert_id=alert.id, staff=setup.clinician, resolution="made-up")
    done = lifecycle.resolve(
        session, alert_id=alert.id, staff=setup.clinician, resolution="called_client", note="Safe, plan reviewed."
    )
    assert done.status == "resolved" and done.resolved_by == setup.clinician.id and done.acknowledged_at
    assert [e.kind for e in lifecycle.history(session, alert=done)][-2:] == ["acknowledged", "resolved"]
    actions = set(session.exec(select(AuditEvent.action).where(AuditEvent.entity_id == alert.id)).all())
    assert {"alert.create", "alert.acknowledge", "alert.resolve"} <= actions
    # A new signal after resolution opens a new alert.
    assert _raise(session, patient, RiskLevel.MODERATE, "method").id != alert.id


def test_a_clinician_cannot_touch_another_caseloads_alert(session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = invite_patient(session, setup)
    other = staff_service.add_staff(
        session, clinic=setup.clinic, email="other@x.example.org", name="Other", role="clinician", actor=SYSTEM
    ).staff
    alert = _raise(session, patient, RiskLevel.HIGH)
    with pytest.raises(NotFound):
        lifecycle.acknowledge(session, alert_id=alert.id, staff=other)
    assert [a.id for a in lifecycle.open_queue(session, staff=setup.admin)] == [alert.id]
    assert lifecycle.open_queue(session, staff=other) == []


def test_an_unacknowledged_urgent_alert_escalates_on_time_and_again(session: Session, mailbox) -> None:  # type: ignore[no-untyped-def]
    setup = create_clinic(session)
    on_call = staff_service.add_staff(
        session, clinic=setup.clinic, email="oncall@x.example.org", name="On Call", role="clinician", actor=SYSTEM
    ).staff
    with unit_of_work(session):
        session.get(Staff, on_call.id).on_call = True  # type: ignore[union-attr]
    patient, _ = invite_patient(session, setup)
    start = utcnow()
    alert = _raise(session, patient, RiskLevel.HIGH, now=start)
    assert escalation.escalate_due(session, now=start + timedelta(minutes=14)) == []
    assert escalation.escalate_due(session, now=start + timedelta(minutes=15)) == [alert.id]
    session.refresh(alert)
    assert alert.escalation_level == 1
    # Still ignored: the next step goes to on-call staff and the administrators.
    assert escalation.escalate_due(session, now=start + timedelta(minutes=31)) == [alert.id]
    steps = [e.detail for e in lifecycle.history(session, alert=alert) if e.kind == "escalated"]
    assert steps[0]["to"] == [on_call.id]
    assert set(steps[1]["to"]) == {on_call.id, setup.admin.id}
    deliver_due()
    recipients = sorted(m["To"] for m in mailbox.wait_for(4))
    assert recipients == sorted([setup.clinician.email, on_call.email, on_call.email, setup.admin.email])
    # Acknowledged alerts stop escalating.
    lifecycle.acknowledge(session, alert_id=alert.id, staff=on_call)
    assert escalation.escalate_due(session, now=start + timedelta(hours=5)) == []


def test_clinic_specific_deadlines_apply(session: Session) -> None:
    setup = create_clinic(session)
    with unit_of_work(session):
        setup.clinic.escalation_minutes = {"priority": 60}
    patient, _ = invite_patient(session, setup)
    alert = _raise(session, patient, RiskLevel.MODERATE, "method")
    assert alert.ack_deadline_at - alert.created_at == timedelta(minutes=60)
    history = session.exec(select(AlertEvent).where(AlertEvent.alert_id == alert.id)).all()
    assert history


def test_every_category_the_engine_can_produce_has_a_named_reason() -> None:
    import re
    from pathlib import Path

    from service.alerts.policy import OTHER_REASON, reason_for

    rules = Path(lifecycle.__file__).parents[1] / "risk" / "rules"
    categories = set()
    for path in rules.glob("*.toml"):
        categories |= set(re.findall(r'category = "([a-z_]+)"', path.read_text()))
    categories |= {"phq9_item9", "severe_symptoms", "reliable_deterioration", "falling_mood", "disengagement"}
    assert {c for c in categories if reason_for(c) == OTHER_REASON} == set()
