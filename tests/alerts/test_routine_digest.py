"""Routine alerts can wait for one email a morning; urgent ones never do."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from service.alerts import digest, lifecycle, oncall
from service.db import unit_of_work
from service.models import OutboxMessage
from service.risk import Evidence, RiskLevel, RiskResult
from tests.factories import create_clinic, invite_patient


def _raise(session: Session, patient, level: RiskLevel, category: str):  # type: ignore[no-untyped-def]
    result = RiskResult(level, (category,), (Evidence(f"en.{category}.t", category, "words", level),), "t")
    with unit_of_work(session):
        return lifecycle.raise_for(session, patient=patient, source_type="checkin", source_id="c", result=result)


def _emails(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "email")).all())


def test_routine_alerts_wait_for_the_morning_digest_and_urgent_ones_do_not(session: Session) -> None:
    setup = create_clinic(session, timezone="Europe/Paris")
    oncall.save_channels(
        session, staff=setup.clinician, email=True, push=False, sms=False, sms_number=None, routine_digest=True
    )
    first, _ = invite_patient(session, setup, name="First")
    second, _ = invite_patient(session, setup, name="Second")
    _raise(session, first, RiskLevel.LOW, "passive_ideation")
    _raise(session, second, RiskLevel.LOW, "passive_ideation")
    assert _emails(session) == []  # no email per routine alert
    assert digest.send_due(session, now=datetime(2026, 12, 1, 5, 0, tzinfo=UTC)) == 0  # 06:00 in Paris
    assert digest.send_due(session, now=datetime(2026, 12, 1, 8, 0, tzinfo=UTC)) == 1
    assert digest.send_due(session, now=datetime(2026, 12, 1, 9, 0, tzinfo=UTC)) == 0  # once a day
    [mail] = _emails(session)
    assert mail.recipient == setup.clinician.email and mail.payload["text"].startswith(
        "2 routine alerts about your patients are waiting"
    )
    _raise(session, first, RiskLevel.HIGH, "intent")
    assert len(_emails(session)) == 2  # the urgent one goes at once
