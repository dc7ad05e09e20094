"""Erasure as a clinic runs it: a request kept under art. 17(3) is carried out by the scheduler when
the retention period ends, and after an erasure the outbox keeps no address of the client (the last
email is delivered, then forgets where it went)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, SQLModel, select

from service import notify
from service.alerts import lifecycle
from service.caseload import erasure
from service.config import get_settings
from service.db import unit_of_work
from service.models import (
    Alert,
    AuditEvent,
    ErasureRequest,
    ErasureStatus,
    OutboxMessage,
    OutboxStatus,
    Patient,
    PushSubscription,
)
from service.models.base import utcnow
from service.scheduler import jobs, runtime
from tests.factories import active_patient, bearer, create_clinic
from tests.security.test_erasure import readable_text

NOTE = "Rowed past the old cannery with Ysolde"
ADDRESS = "robin@example.org"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The erasure module's "now", moved by the test (the scheduled job reads no clock of its own)."""
    current = Clock()
    monkeypatch.setattr(erasure, "utcnow", lambda: current.now)
    return current


class NotLeader(runtime.Leadership):
    def __init__(self) -> None:
        pass

    def is_leader(self) -> bool:
        return False


def _kept_request(client: TestClient, session: Session, *, risky: bool = False) -> tuple[object, Patient, str]:
    setup = create_clinic(session, slug="retention-clinic")
    robin, tokens = active_patient(session, setup, name="Robin Fox", email=ADDRESS)
    note = "I want to kill myself tonight" if risky else NOTE
    assert client.post("/api/v1/checkins", json={"mood": 4, "note": note}, headers=bearer(tokens)).status_code == 201
    assert client.delete("/api/v1/me", headers=bearer(tokens)).status_code == 202
    [queued] = erasure.queue(session, admin=setup.admin)
    erasure.keep(session, admin=setup.admin, request_id=queued.request.id, reason="legal_obligation")
    return setup, robin, queued.request.id


def _request(session: Session, request_id: str) -> ErasureRequest:
    session.expire_all()
    found = session.get(ErasureRequest, request_id)
    assert found is not None
    return found


def test_a_kept_request_is_carried_out_by_the_scheduler_when_the_retention_period_ends(
    client: TestClient, session: Session, clock: Clock
) -> None:
    _setup, robin, request_id = _kept_request(client, session)
    keep_until = _request(session, request_id).keep_until
    assert keep_until is not None and keep_until > clock.now + timedelta(days=365)
    assert "erase_after_retention" in {job.id for job in jobs.JOBS}

    # The day before the period ends: nothing happens, the records still read.
    clock.now = keep_until - timedelta(days=1)
    jobs.erase_after_retention()
    assert _request(session, request_id).status == ErasureStatus.KEPT
    assert NOTE in readable_text(session)

    # Past the end, on a replica that is not the leader: nothing happens either.
    clock.now = keep_until + timedelta(minutes=5)
    runtime._led(NotLeader(), jobs.erase_after_retention, "erase_after_retention")()
    assert _request(session, request_id).status == ErasureStatus.KEPT

    # The leader's run carries it out, as an admin's "carry out" would.
    runtime._led(runtime.Leadership(get_settings().database_url), jobs.erase_after_retention, "x")()
    done = _request(session, request_id)
    assert done.status == ErasureStatus.CARRIED_OUT and done.decided_at == clock.now
    assert NOTE not in " ".join(readable_text(session))
    erased = session.get(Patient, robin.id)
    assert erased is not None and erased.erased_at is not None and erased.email is None
    assert "Robin" not in erased.display_name
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "erasure.carry_out")).all()
    assert (event.actor_type, event.actor_id, event.patient_id) == ("system", "retention", robin.id)
    assert event.detail["keep_until"] == keep_until.date().isoformat()
    [last] = [m for m in session.exec(select(OutboxMessage)).all() if m.recipient == ADDRESS]
    assert "erased" in last.payload["subject"]

    # Idempotent: the next runs find nothing more to do.
    clock.now += timedelta(hours=1)
    jobs.erase_after_retention()
    assert erasure.carry_out_kept_due(session) == []
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "erasure.carry_out")).all()) == 1


def test_an_open_alert_holds_the_scheduled_erasure_until_a_person_resolves_it(
    client: TestClient, session: Session, clock: Clock
) -> None:
    setup, robin, request_id = _kept_request(client, session, risky=True)
    keep_until = _request(session, request_id).keep_until
    assert keep_until is not None
    clock.now = keep_until + timedelta(days=1)
    assert erasure.carry_out_kept_due(session) == []
    assert _request(session, request_id).status == ErasureStatus.KEPT
    for alert in session.exec(select(Alert).where(Alert.patient_id == robin.id)).all():
        lifecycle.resolve(session, alert_id=alert.id, staff=setup.clinician, resolution="called_client")  # type: ignore[attr-defined]
    assert erasure.carry_out_kept_due(session) == [request_id]
    assert _request(session, request_id).status == ErasureStatus.CARRIED_OUT


def _every_stored_value(session: Session) -> str:
    """Every value of every table, as stored (encrypted columns as their ciphertext)."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for row in session.execute(text(f"SELECT * FROM {table.name}")):
            found.append(" ".join(str(value) for value in row))
    return "\n".join(found)


def _every_readable_value(session: Session) -> str:
    """Every value as stored, and every encrypted value as it decrypts (the keys are at hand)."""
    return _every_stored_value(session) + "\n" + "\n".join(readable_text(session))


def test_after_erasure_the_outbox_holds_no_address_of_the_client_and_the_last_email_arrives(
    client: TestClient, session: Session, mailbox
) -> None:  # type: ignore[no-untyped-def]
    setup = create_clinic(session, slug="outbox-clinic")
    robin, tokens = active_patient(session, setup, name="Robin Fox", email=ADDRESS)
    device = PushSubscription(
        patient_id=robin.id, endpoint="https://push.example/robin-phone", endpoint_hash="h" * 64, p256dh="p", auth="a"
    )
    with unit_of_work(session):
        session.add(device)
    with unit_of_work(session):
        notify.enqueue_push(session, subscription=device, title="Tandem", text="Time to check in", dedup_key="r1")
    # An email delivered to Robin (a password reset), and one still waiting.
    assert client.post("/api/v1/auth/password-reset", json={"email": ADDRESS}).status_code == 202
    notify.deliver_due(sender=lambda s, m: notify.outbox._send(s, m) if m.kind == "email" else None)
    assert len(mailbox.wait_for(1)) == 1
    with unit_of_work(session):
        notify.enqueue_email(session, to=ADDRESS, subject="[Tandem] Reminder", text="Check in", dedup_key="waiting")
    rows = session.exec(select(OutboxMessage)).all()
    assert {(m.kind, m.status) for m in rows} >= {("email", OutboxStatus.SENT), ("email", OutboxStatus.PENDING)}
    # The outbox holds the address only sealed: the rows name it by its blind index.
    assert ADDRESS not in _every_stored_value(session)
    assert ADDRESS in _every_readable_value(session) and device.id in _every_stored_value(session)

    assert client.delete("/api/v1/me", headers=bearer(tokens)).status_code == 202
    [queued] = erasure.queue(session, admin=setup.admin)
    erasure.carry_out(session, admin=setup.admin, request_id=queued.request.id)

    # Until it is sent, only the last email holds the address.
    session.expire_all()
    holding = [m for m in session.exec(select(OutboxMessage)).all() if ADDRESS in f"{m.recipient} {m.dedup_key}"]
    assert [m.payload["subject"] for m in holding] == ["[Tandem] Your data was erased"]
    assert not [m for m in session.exec(select(OutboxMessage)).all() if m.kind == "push"]

    report = notify.deliver_due()
    assert len(report.sent) == 1
    last = mailbox.wait_for(2)[-1]
    assert last["To"] == ADDRESS and last["Subject"] == "[Tandem] Your data was erased"
    session.expire_all()
    assert ADDRESS not in _every_readable_value(session)
    assert device.id not in _every_readable_value(session)
    [forgotten] = session.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT)).all()
    assert forgotten.recipient == "erased" and forgotten.payload == {}
    assert notify.deliver_due().sent == []  # nothing left, nothing sent twice


def test_a_scheduled_erasure_that_fails_does_not_hold_back_the_requests_due_after_it(
    client: TestClient,
    session: Session,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    setup = create_clinic(session, slug="retention-two")
    ids = {}
    for name, email in (("Robin Fox", "robin@example.org"), ("Sam Reed", "sam@example.org")):
        patient, tokens = active_patient(session, setup, name=name, email=email)
        assert client.delete("/api/v1/me", headers=bearer(tokens)).status_code == 202
        [queued] = [q for q in erasure.queue(session, admin=setup.admin) if q.request.patient_id == patient.id]
        erasure.keep(session, admin=setup.admin, request_id=queued.request.id, reason="legal_obligation")
        ids[name] = (patient.id, queued.request.id)
    robin_request, sam_request = ids["Robin Fox"][1], ids["Sam Reed"][1]
    sam_until = _request(session, sam_request).keep_until
    assert sam_until is not None
    with unit_of_work(session):  # Robin's period ended first: the run meets Robin's request first
        robin = _request(session, robin_request)
        robin.keep_until = sam_until - timedelta(days=1)
        session.add(robin)
    clock.now = sam_until + timedelta(hours=1)

    real_erase = erasure._erase

    def broken_for_robin(session: Session, request: ErasureRequest, patient: Patient, **kwargs: object) -> None:
        if patient.id == ids["Robin Fox"][0]:
            raise RuntimeError("a value under a key the ring no longer holds")
        real_erase(session, request, patient, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(erasure, "_erase", broken_for_robin)
    jobs.erase_after_retention()
    assert _request(session, robin_request).status == ErasureStatus.KEPT
    assert _request(session, sam_request).status == ErasureStatus.CARRIED_OUT
    assert "RuntimeError" in caplog.text and "ring no longer holds" not in caplog.text

    monkeypatch.setattr(erasure, "_erase", real_erase)  # fixed: the next hour's run carries it out
    assert erasure.carry_out_kept_due(session) == [robin_request]
    assert _request(session, robin_request).status == ErasureStatus.CARRIED_OUT
