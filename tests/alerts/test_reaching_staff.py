"""Reaching a person: the on-call rota, each staff member's channels (email, Web Push, SMS through
Twilio's Messages API), every attempt visible, and failures that page the admins another way."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from service import notify
from service.alerts import delivery, escalation, lifecycle, oncall
from service.config import get_settings
from service.db import unit_of_work
from service.models import AlertEvent, OutboxMessage, OutboxStatus
from service.onboarding.staff import add_staff
from service.risk import Evidence, RiskLevel, RiskResult
from tests.factories import SYSTEM, create_clinic, invite_patient
from tests.notify.test_web_push import Browser
from tests.support.push_service import push_service
from tests.support.sms_provider import SID, TOKEN, sms_provider

GOODBYE = RiskResult(
    RiskLevel.HIGH, ("goodbye",), (Evidence("en.goodbye.farewell", "goodbye", "goodbye letters", RiskLevel.HIGH),), "t"
)


def _urgent(session: Session, patient):  # type: ignore[no-untyped-def]
    with unit_of_work(session):
        return lifecycle.raise_for(session, patient=patient, source_type="checkin", source_id="c1", result=GOODBYE)


def _outbox(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.created_at)).all())


def test_escalation_follows_the_rota_and_a_gap_pages_the_admins(session: Session) -> None:
    setup = create_clinic(session, timezone="Europe/Paris")
    dana = add_staff(
        session, clinic=setup.clinic, email="dana@x.example.org", name="Dana", role="clinician", actor=SYSTEM
    )
    patient, _ = invite_patient(session, setup)
    alert = _urgent(session, patient)
    local_now = alert.ack_deadline_at.astimezone(ZoneInfo("Europe/Paris")).replace(tzinfo=None)
    shift = oncall.add_shift(
        session,
        admin=setup.admin,
        staff_id=dana.staff.id,
        starts_local=local_now - timedelta(hours=1),
        ends_local=local_now + timedelta(hours=8),
    )
    assert shift.starts_at == (local_now - timedelta(hours=1)).replace(tzinfo=ZoneInfo("Europe/Paris"))
    escalation.escalate_due(session, now=alert.ack_deadline_at)
    escalated_to = {m.recipient for m in _outbox(session) if "escalation:1" in m.dedup_key}
    assert escalated_to == {"dana@x.example.org"}  # the rota, not the admins
    view = oncall.rota(session, staff=setup.admin, now=alert.ack_deadline_at)
    assert [row.staff_name for row in view.shifts] == ["Dana"] and view.gaps  # after the shift: a gap

    other, _ = invite_patient(session, setup, name="Other")
    later = _urgent(session, other)
    escalation.escalate_due(session, now=later.ack_deadline_at + timedelta(hours=9))  # after Dana's shift
    session.expire_all()
    assert {m.recipient for m in _outbox(session) if f"{later.id}:escalation:1" in m.dedup_key} == {setup.admin.email}


def test_an_urgent_alert_reaches_every_chosen_channel_once(
    session: Session, monkeypatch: pytest.MonkeyPatch, mailbox
) -> None:  # type: ignore[no-untyped-def]
    setup = create_clinic(session)
    patient, _ = invite_patient(session, setup)
    with push_service() as pushes, sms_provider() as texts:
        monkeypatch.setenv("TANDEM_SMS_API_BASE", texts.base)
        monkeypatch.setenv("TANDEM_SMS_ACCOUNT_SID", SID)
        monkeypatch.setenv("TANDEM_SMS_AUTH_TOKEN", TOKEN)
        monkeypatch.setenv("TANDEM_SMS_FROM", "+15005550006")
        get_settings.cache_clear()
        browser = Browser(f"{pushes.base}/push/staff-1")
        keys = browser.subscription()["keys"]
        oncall.subscribe_push(
            session, staff=setup.clinician, endpoint=browser.endpoint, p256dh=keys["p256dh"], auth=keys["auth"]
        )  # type: ignore[index]
        oncall.save_channels(
            session,
            staff=setup.clinician,
            email=True,
            push=True,
            sms=True,
            sms_number="+44 7700 900123",
            routine_digest=False,
        )
        alert = _urgent(session, patient)
        assert sorted(m.kind for m in _outbox(session)) == ["email", "sms", "staff_push"]
        notify.deliver_due()
        notify.deliver_due()  # a second run sends nothing again
        assert len(mailbox.wait_for(1)) == 1
        assert len(pushes.received) == 1 and len(texts.sent) == 1
        pushed = browser.decrypt(pushes.received[0].body)
        assert pushed["url"] == f"/portal/alerts/{alert.id}" and "Urgent" in str(pushed["title"])
        assert texts.sent[0]["To"] == "+447700900123" and texts.sent[0]["From"] == "+15005550006"
        assert f"/portal/alerts/{alert.id}" in texts.sent[0]["Body"]
        deliveries = delivery.for_alert(session, alert=alert)
        assert {(d.channel, d.recipient, d.status) for d in deliveries} == {
            ("email", "Chris Clinician", "sent"),
            ("staff_push", "Chris Clinician", "sent"),
            ("sms", "Chris Clinician", "sent"),
        }
    get_settings.cache_clear()


def test_a_failing_mail_server_shows_on_the_alert_and_pages_admins_past_the_deadline(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = create_clinic(session)
    monkeypatch.setenv("TANDEM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TANDEM_SMTP_PORT", "9")  # nothing listens: connection refused
    get_settings.cache_clear()
    with push_service() as pushes:
        admin_browser = Browser(f"{pushes.base}/push/admin")
        keys = admin_browser.subscription()["keys"]
        oncall.subscribe_push(
            session, staff=setup.admin, endpoint=admin_browser.endpoint, p256dh=keys["p256dh"], auth=keys["auth"]
        )  # type: ignore[index]
        patient, _ = invite_patient(session, setup)
        alert = _urgent(session, patient)
        report = notify.deliver_due()
        assert report.retried and not report.sent
        [failing] = delivery.for_alert(session, alert=alert)
        assert failing.failing and failing.attempts == 1 and "Error" in (failing.last_error or "")
        assert delivery.failing_channels(session, clinic_id=setup.clinic.id) == ["email"]

        assert delivery.page_admins_for_undelivered(session, now=alert.created_at + timedelta(minutes=5)) == []
        paged = delivery.page_admins_for_undelivered(session, now=alert.created_at + timedelta(minutes=16))
        assert paged == [alert.id]
        assert delivery.page_admins_for_undelivered(session, now=alert.created_at + timedelta(minutes=30)) == []  # once
        fallback = [m for m in _outbox(session) if "undelivered" in m.dedup_key]
        assert [m.kind for m in fallback] == ["staff_push"]  # not email: email is what is failing
        notify.deliver_due(now=alert.created_at + timedelta(minutes=16))
        assert len(pushes.received) == 1
        assert "could not be delivered" in str(admin_browser.decrypt(pushes.received[0].body)["title"])
        events = session.exec(
            select(AlertEvent).where(AlertEvent.alert_id == alert.id, AlertEvent.kind == "delivery_failed")
        ).all()
        assert len(events) == 1
    get_settings.cache_clear()


def test_bad_channel_choices_are_refused(session: Session) -> None:
    setup = create_clinic(session)
    from service.errors import Invalid

    for kwargs in (
        {"email": False, "push": False, "sms": False, "sms_number": None},
        {"email": True, "push": False, "sms": True, "sms_number": None},
        {"email": True, "push": False, "sms": True, "sms_number": "07700 900123"},
    ):
        with pytest.raises(Invalid):
            oncall.save_channels(session, staff=setup.clinician, routine_digest=False, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        oncall.add_shift(
            session,
            admin=setup.admin,
            staff_id=setup.clinician.id,
            starts_local=datetime(2026, 12, 2, 9),
            ends_local=datetime(2026, 12, 2, 8),
        )
    assert OutboxStatus.PENDING  # nothing else written
