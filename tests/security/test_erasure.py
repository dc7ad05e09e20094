"""Erasure (GDPR art. 17) that happens: the request reaches the admins' queue with its deadline, and
carrying it out closes the account, crypto-shreds the client's text (copies taken before, as in a
backup, no longer decrypt) and removes identifiers, while the audit chain still verifies and every
other client's data still reads."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from service import audit
from service.alerts import lifecycle
from service.caseload import care, erasure
from service.cli import app as cli
from service.crypto import DecryptionError
from service.demo.seed import seed_exercises
from service.errors import Conflict, Forbidden
from service.models import (
    Alert,
    AlertStatus,
    AuditEvent,
    CheckIn,
    ErasureRequest,
    ErasureStatus,
    Patient,
    PatientContact,
    PatientKey,
    data_key_cache,
)
from service.models.base import EncryptedText, utcnow
from service.models.sealing import SEALED_TABLES
from service.notify import deliver_due
from service.onboarding.contacts import parse_details
from service.summaries.service import generate_and_store
from tests.factories import CLIENT_PASSWORD, SYSTEM, active_patient, bearer, create_clinic
from tests.summaries.history import FLAGGED_NOTE, seed_story

ROBIN_PLAN_ITEM = "Walk to the lighthouse with Morwenna"
ROBIN_NOTE = "Quarrelled with Morwenna about the lighthouse keys"
OTHER_NOTE = "Bicycled to Kerlouan and felt lighter"
CLIENT_WORDS = (FLAGGED_NOTE, ROBIN_PLAN_ITEM, ROBIN_NOTE, "Morwenna", "Robin Fox", "robin@example.org")
CONTACT = {
    "date_of_birth": "1988-04-02",
    "phone": "+1 617 555 0142",
    "email": "robin.contact@example.net",
    "contact_times": "Weekday mornings before Morwenna's shift",
    "emergency_name": "Morwenna Fox",
    "emergency_relation": "sister",
    "emergency_phone": "+1 617 555 0199",
}


def encrypted_columns() -> list[tuple[str, str, EncryptedText]]:
    """Every encrypted column of every table, found by introspection: a new one cannot be missed."""
    return [
        (table.name, column.name, column.type)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedText)
    ]


def readable_text(session: Session) -> list[str]:
    """What every encrypted value of the database reads as now, with no key held in memory."""
    data_key_cache.clear()
    found = []
    for table, column, kind in encrypted_columns():
        for (raw,) in session.execute(text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")):
            found.append(kind.process_result_value(raw, session.get_bind().dialect) or "")
    return found


def robin_with_a_history(client: TestClient, session: Session) -> tuple[Any, Patient, dict[str, str], Patient]:
    setup = create_clinic(session, slug="erasure-clinic")
    robin, tokens = active_patient(session, setup, name="Robin Fox", email="robin@example.org")
    other, other_tokens = active_patient(session, setup, name="Sam Other", email="sam@example.org")
    headers = bearer(tokens)
    story = seed_story(session, robin, clinician=setup.clinician)
    for alert in story.alerts:
        if alert.status != AlertStatus.RESOLVED:
            lifecycle.resolve(session, alert_id=alert.id, staff=setup.clinician, resolution="called_client", note="ok")
    assert client.post("/api/v1/checkins", json={"mood": 5, "note": ROBIN_NOTE}, headers=headers).status_code == 201
    plan = {"sections": [{"code": "reasons_for_living", "items": [ROBIN_PLAN_ITEM]}]}
    assert client.put("/api/v1/safety-plan", json=plan, headers=headers).status_code == 200
    seed_exercises(session, [robin])
    generate_and_store(session, patient=robin, reason="batch", actor=SYSTEM)
    care.save_contact(
        session, staff=setup.clinician, patient_id=robin.id, details=parse_details(country="US", **CONTACT)
    )
    answer = client.post("/api/v1/checkins", json={"mood": 6, "note": OTHER_NOTE}, headers=bearer(other_tokens))
    assert answer.status_code == 201
    return setup, robin, tokens, other  # type: ignore[return-value]


def test_a_request_reaches_the_admin_queue_due_within_a_month(client: TestClient, session: Session) -> None:
    setup = create_clinic(session, slug="queue-clinic")
    robin, tokens = active_patient(session, setup, name="Robin Fox", email="robin@example.org")
    answer = client.delete("/api/v1/me", headers=bearer(tokens))
    assert answer.status_code == 202 and answer.json()["status"] == "requested"
    [queued] = erasure.queue(session, admin=setup.admin)
    assert queued.patient.id == robin.id and queued.pending and not queued.overdue
    requested = queued.request.requested_at
    assert timedelta(days=28) <= queued.request.due_at - requested <= timedelta(days=31)
    # A second request is the same request.
    again = client.post("/api/v1/auth/token", json={"email": "robin@example.org", "password": CLIENT_PASSWORD})
    assert client.delete("/api/v1/me", headers=bearer(again.json())).status_code == 202
    assert len(erasure.queue(session, admin=setup.admin)) == 1
    with pytest.raises(Forbidden):
        erasure.queue(session, admin=setup.clinician)


def test_carrying_out_leaves_no_readable_client_text_and_the_audit_chain_verifies(
    client: TestClient, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mailbox
) -> None:
    monkeypatch.setenv("TANDEM_AUDIT_CHECKPOINT_PATH", str(tmp_path / "checkpoints.jsonl"))
    monkeypatch.setenv("TANDEM_AUDIT_CHECKPOINT_SINK", "file")
    setup, robin, tokens, _other = robin_with_a_history(client, session)
    before = readable_text(session)
    for words in CLIENT_WORDS[:4]:
        assert any(words in value for value in before), f"the test stores no {words!r}, so it proves nothing"
    # A backup taken before the erasure: every sealed value of Robin's, as stored.
    backup = {
        (table.model.__tablename__, attr): session.execute(  # type: ignore[attr-defined]
            text(f"SELECT {attr_column(table.model, attr)} FROM {table.model.__tablename__}")
        )
        .scalars()
        .all()
        for table in SEALED_TABLES
        for attr in table.columns
    }
    assert client.delete("/api/v1/me", headers=bearer(tokens)).status_code == 202
    [queued] = erasure.queue(session, admin=setup.admin)

    done = erasure.carry_out(session, admin=setup.admin, request_id=queued.request.id)

    assert done.status == ErasureStatus.CARRIED_OUT and done.decided_by == setup.admin.id
    # The last email, telling Robin it is done, holds the address (sealed) until it is sent; then
    # the row forgets it.
    sent = len(deliver_due().sent)
    assert "robin@example.org" in [mail["To"] for mail in mailbox.wait_for(sent)]
    after = readable_text(session)
    for words in CLIENT_WORDS:
        assert not any(words in value for value in after), words
    assert "+16175550142" not in " ".join(after) and "1988-04-02" not in " ".join(after)
    # The backup's copies no longer decrypt: the only key that opened them is gone.
    data_key_cache.clear()
    opened = []
    for (table_name, _attr), values in backup.items():
        kind = next(t for n, c, t in encrypted_columns() if n == table_name and c == attr_column_of(table_name, _attr))
        for raw in values:
            if raw and raw.startswith(f"p1.{robin.id}."):
                opened.append(kind.process_result_value(raw, None) or "")
    assert opened and not any(words in value for value in opened for words in CLIENT_WORDS)
    key = session.get(PatientKey, robin.id)
    assert key is not None and key.wrapped_key is None and key.destroyed_at is not None
    # Identifiers are gone; the patient is no one's any more.
    session.expire_all()
    erased = session.get(Patient, robin.id)
    assert erased is not None and erased.erased_at is not None
    assert erased.email is None and erased.email_index is None and erased.password_hash is None
    assert "Robin" not in erased.display_name and session.get(PatientContact, robin.id) is None
    # The account is closed: tokens and password refused.
    assert client.get("/api/v1/me", headers=bearer(tokens)).status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401
    login = client.post("/api/v1/auth/token", json={"email": "robin@example.org", "password": CLIENT_PASSWORD})
    assert login.status_code == 401
    # Other clients' data still reads.
    assert OTHER_NOTE in after
    # The audit log kept its rows about Robin (ids only) and its chain verifies.
    rows = session.exec(select(AuditEvent).where(AuditEvent.patient_id == robin.id)).all()
    assert any(row.action == "erasure.carry_out" for row in rows)
    assert not any("Robin" in str(row.detail) for row in rows)
    audit.seal(session)
    verified = CliRunner().invoke(cli, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "intact" in verified.output


def attr_column(model: type[SQLModel], attr: str) -> str:
    return str(inspect(model).column_attrs[attr].columns[0].name)


def attr_column_of(table_name: str, attr: str) -> str:
    model = next(t.model for t in SEALED_TABLES if t.model.__tablename__ == table_name)  # type: ignore[attr-defined]
    return attr_column(model, attr)


def test_every_table_with_client_text_is_sealed_per_patient() -> None:
    """Each encrypted column either holds a patient's data under their key, or is a staff secret."""
    staff_secrets = {
        ("staff", "totp_secret"),
        ("staff", "totp_pending_secret"),
        ("staff_channels", "sms_number"),
        ("webhook_endpoint", "secret"),
    }
    identifiers = {("patient", "display_name"), ("patient", "email")}  # overwritten at erasure
    # Where a message goes (an address, a number): a patient's rows are purged at erasure, found by
    # the blind index.
    identifiers |= {("outbox_message", "recipient_sealed")}
    per_patient = {(table, column) for table, column, kind in encrypted_columns() if kind.per_patient}
    sealed = {(t.model.__tablename__, attr_column(t.model, a)) for t in SEALED_TABLES for a in t.columns}  # type: ignore[attr-defined]
    assert per_patient == sealed
    assert {(table, column) for table, column, _ in encrypted_columns()} == per_patient | staff_secrets | identifiers


def test_an_open_alert_blocks_the_erasure_until_a_person_resolves_it(client: TestClient, session: Session) -> None:
    setup = create_clinic(session, slug="open-alert-clinic")
    robin, tokens = active_patient(session, setup, name="Robin Fox", email="robin@example.org")
    note = "I want to kill myself tonight"
    assert client.post("/api/v1/checkins", json={"mood": 1, "note": note}, headers=bearer(tokens)).status_code == 201
    assert client.delete("/api/v1/me", headers=bearer(tokens)).status_code == 202
    [queued] = erasure.queue(session, admin=setup.admin)
    with pytest.raises(Conflict, match="open alerts"):
        erasure.carry_out(session, admin=setup.admin, request_id=queued.request.id)
    assert session.get(Patient, robin.id).erased_at is None  # type: ignore[union-attr]
    for alert in session.exec(select(Alert).where(Alert.patient_id == robin.id)).all():
        lifecycle.resolve(session, alert_id=alert.id, staff=setup.clinician, resolution="called_client")
    assert (
        erasure.carry_out(session, admin=setup.admin, request_id=queued.request.id).status == ErasureStatus.CARRIED_OUT
    )


def test_keeping_records_under_art_17_3_records_the_reason_and_the_retention(
    client: TestClient, session: Session
) -> None:
    setup = create_clinic(session, slug="keep-clinic")
    robin, tokens = active_patient(session, setup, name="Robin Fox", email="robin@example.org")
    assert client.delete("/api/v1/me", headers=bearer(tokens)).status_code == 202
    [queued] = erasure.queue(session, admin=setup.admin)
    kept = erasure.keep(session, admin=setup.admin, request_id=queued.request.id, reason="legal_obligation")
    assert kept.status == ErasureStatus.KEPT and kept.keep_reason == "legal_obligation"
    assert kept.keep_until is not None and kept.keep_until.year == utcnow().year + setup.clinic.record_retention_years
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "erasure.keep")).one()
    assert event.detail["reason"] == "legal_obligation" and event.patient_id == robin.id
    with pytest.raises(Conflict):
        erasure.keep(session, admin=setup.admin, request_id=queued.request.id, reason="legal_claims")
    # The records are kept, and still read.
    session.expire_all()
    assert session.get(Patient, robin.id).display_name == "Robin Fox"  # type: ignore[union-attr]
    # Later (at the end of the retention period) the admin can still carry it out.
    assert (
        erasure.carry_out(session, admin=setup.admin, request_id=queued.request.id).status == ErasureStatus.CARRIED_OUT
    )


def test_a_value_sealed_for_one_patient_does_not_open_as_another(session: Session) -> None:
    setup = create_clinic(session, slug="aad-clinic")
    robin, _ = active_patient(session, setup, name="Robin Fox", email="robin@example.org")
    other, _ = active_patient(session, setup, name="Sam Other", email="sam@example.org")
    care.save_contact(
        session,
        staff=setup.clinician,
        patient_id=robin.id,
        details=parse_details(country="US", phone="+1 617 555 0142"),
    )
    raw = session.execute(text("SELECT phone FROM patient_contact WHERE patient_id = :p"), {"p": robin.id}).scalar_one()
    forged = raw.replace(robin.id, other.id)
    kind = PatientContact.__table__.columns["phone"].type  # type: ignore[attr-defined]
    with pytest.raises(DecryptionError):
        kind.process_result_value(forged, None)
    with pytest.raises(DecryptionError):  # the same value in another column does not open either
        PatientContact.__table__.columns["email"].type.process_result_value(raw, None)  # type: ignore[attr-defined]


def test_the_migration_reseals_existing_text_under_each_patients_key(
    client: TestClient, session: Session, database_url: str
) -> None:
    """Text written before per-patient keys (sealed by the key ring) is sealed again by migration
    0014, so erasure reaches it; a pending erasure request joins the admins' queue."""
    from alembic import command

    from service.crypto import get_cipher
    from service.db import reset_engine
    from service.models.migrate import alembic_config, upgrade

    setup = create_clinic(session, slug="legacy-clinic")
    robin, tokens = active_patient(session, setup, name="Robin Fox", email="robin@example.org")
    assert (
        client.post("/api/v1/checkins", json={"mood": 5, "note": ROBIN_NOTE}, headers=bearer(tokens)).status_code == 201
    )
    assert client.delete("/api/v1/me", headers=bearer(tokens)).status_code == 202
    session.close()
    reset_engine()

    command.downgrade(alembic_config(database_url), "0013")
    with Session(create_engine_for(database_url)) as legacy:
        raw = legacy.execute(text("SELECT note FROM checkin WHERE note IS NOT NULL")).scalar_one()
    assert raw.startswith("v1.") and get_cipher().decrypt(raw, "checkin.note") == ROBIN_NOTE

    upgrade(database_url)
    data_key_cache.clear()
    reset_engine()
    with Session(create_engine_for(database_url)) as upgraded:
        raw = upgraded.execute(text("SELECT note FROM checkin WHERE note IS NOT NULL")).scalar_one()
        assert raw.startswith(f"p1.{robin.id}.") and ROBIN_NOTE not in raw
        note = upgraded.exec(select(CheckIn.note).where(CheckIn.patient_id == robin.id)).first()
        assert note == ROBIN_NOTE
        [queued] = upgraded.exec(select(ErasureRequest)).all()
        assert queued.patient_id == robin.id and queued.status == ErasureStatus.PENDING


def create_engine_for(url: str):  # type: ignore[no-untyped-def]
    from service.db import make_engine

    return make_engine(url)


def test_a_table_is_sealed_and_erased_because_its_column_is_per_patient_with_no_list_to_update() -> None:
    """The column type is the one definition: a new table with a per-patient column is sealed (and
    so erased) as it is declared, reached through its foreign key when it has no patient_id; one
    with no way to its patient is refused when the models load."""
    from sqlalchemy import ForeignKey, String
    from sqlalchemy.orm import DeclarativeBase, mapped_column

    from service.models.sealing import sealed_tables

    class Base(DeclarativeBase):
        pass

    class Diary(Base):
        __tablename__ = "diary"
        id = mapped_column(String(36), primary_key=True)
        patient_id = mapped_column(String(36))
        title = mapped_column(EncryptedText("diary.title"))  # the key ring's, not the patient's
        body = mapped_column(EncryptedText("diary.body", per_patient=True))

    class DiaryLine(Base):
        __tablename__ = "diary_line"
        id = mapped_column(String(36), primary_key=True)
        diary_id = mapped_column(ForeignKey("diary.id"))
        words = mapped_column(EncryptedText("diary_line.words", per_patient=True))

    class Loose(Base):
        __tablename__ = "loose"
        id = mapped_column(String(36), primary_key=True)
        words = mapped_column(EncryptedText("loose.words", per_patient=True))

    found = {t.model: (t.columns, t.through) for t in sealed_tables([Diary, DiaryLine])}
    assert found == {
        Diary: ({"body": "diary.body"}, None),
        DiaryLine: ({"words": "diary_line.words"}, (Diary, "diary_id")),
    }
    with pytest.raises(TypeError, match="Loose has per-patient columns but 0 ways to its patient"):
        sealed_tables([Diary, Loose])
