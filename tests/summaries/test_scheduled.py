"""Summaries made ahead of appointments: on a moving clock, through the scheduler job, with real email."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from service.config import get_settings
from service.models import AuditEvent, OutboxMessage, PatientSummary
from service.models.base import utcnow
from service.notify import deliver_due
from service.scheduler import jobs
from service.summaries import scheduled
from service.summaries.service import stored_pdf
from tests.summaries.conftest import Seeded
from tests.summaries.reading import pdf_text


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    current = Clock(utcnow())
    monkeypatch.setattr(scheduled, "now", lambda: current.now)
    return current


def book(session: Session, seeded: Seeded, when: datetime) -> None:
    patient = seeded.story.patient
    patient.next_appointment_at = when
    session.add(patient)
    session.commit()


def ready(mailbox):  # type: ignore[no-untyped-def]
    return [m for m in mailbox.messages if "summary is ready" in m["Subject"]]


def summaries(session: Session) -> list[PatientSummary]:
    session.expire_all()
    return list(session.exec(select(PatientSummary).order_by(PatientSummary.created_at)))  # type: ignore[arg-type]


def test_a_summary_is_made_a_day_ahead_and_the_clinician_is_emailed_without_patient_data(
    session: Session, english: Seeded, clock: Clock, mailbox
) -> None:  # type: ignore[no-untyped-def]
    appointment = clock.now + timedelta(hours=30)
    book(session, english, appointment)
    jobs.prepare_summaries()
    assert summaries(session) == []  # 30 hours ahead: not yet

    clock.advance(hours=7)
    jobs.prepare_summaries()
    [made] = summaries(session)
    assert made.appointment_at == appointment and made.reason == "appointment"
    assert made.clinician_id == english.setup.clinician.id
    assert "Summary before the session" in pdf_text(stored_pdf(made))

    deliver_due()  # also sends the alert emails of the patient's history (SMTP is synchronous)
    [message] = ready(mailbox)
    assert message["To"] == english.setup.clinician.email
    assert message["Subject"] == "A session summary is ready in Tandem"
    body = message.get_content()
    assert f"/portal/summaries/{made.id}" in body
    for patient_data in ("Zoé", "Lefèvre", english.story.patient.id, "PHQ"):
        assert patient_data not in body
    link = f"{get_settings().base_url}/portal/summaries/{made.id}"
    assert not any(ch.isdigit() for ch in body.replace(link, ""))  # no date, time or score

    jobs.prepare_summaries()  # the next run finds nothing new
    assert len(summaries(session)) == 1
    deliver_due()
    assert len(ready(mailbox)) == 1


def test_the_stored_pdf_is_encrypted_at_rest_and_audited(session: Session, english: Seeded, clock: Clock) -> None:
    book(session, english, clock.now + timedelta(hours=5))
    [summary_id] = scheduled.prepare_due(session)
    raw = session.execute(text("SELECT pdf FROM patient_summary WHERE id = :id"), {"id": summary_id}).scalar_one()
    assert raw.startswith("p1.") and "JVBERi" not in raw  # "%PDF" in base64 never reaches the database
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "summary.generate")).one()
    assert audit.entity_id == summary_id and audit.actor_type == "system"
    assert session.exec(select(OutboxMessage).where(OutboxMessage.dedup_key.startswith("email:summary-ready"))).one()  # type: ignore[attr-defined]


def test_a_moved_appointment_gets_its_own_summary_covering_since_the_last_session(
    session: Session, english: Seeded, clock: Clock
) -> None:
    first = clock.now + timedelta(hours=10)
    book(session, english, first)
    scheduled.prepare_due(session)
    clock.advance(days=3)  # the session took place; the clinician books the next one
    second = clock.now + timedelta(hours=20)
    book(session, english, second)
    scheduled.prepare_due(session)
    made = summaries(session)
    assert [s.appointment_at for s in made] == [first, second]
    zone = ZoneInfo(english.setup.clinic.timezone)
    assert made[1].period_start == first.astimezone(zone).date()


def test_discharged_patients_and_far_appointments_are_left_alone(
    session: Session, english: Seeded, clock: Clock
) -> None:
    book(session, english, clock.now + timedelta(hours=23))
    patient = english.story.patient
    patient.status = "discharged"
    session.add(patient)
    session.commit()
    assert scheduled.prepare_due(session) == []


def test_the_window_follows_the_setting(
    session: Session, english: Seeded, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    book(session, english, clock.now + timedelta(hours=40))
    assert scheduled.prepare_due(session) == []
    monkeypatch.setenv("TANDEM_SUMMARY_HOURS_BEFORE_APPOINTMENT", "48")
    get_settings.cache_clear()
    assert len(scheduled.prepare_due(session)) == 1
