from __future__ import annotations

from sqlalchemy import inspect

from service.db import get_engine
from service.models.migrate import current_revision, heads, pending_model_changes


def test_migrations_form_one_linear_history() -> None:
    assert len(heads()) == 1


def test_migrations_apply_from_empty_and_match_the_models(database_url: str) -> None:
    engine = get_engine()
    assert current_revision(engine) == heads()[0]
    assert pending_model_changes(engine) == []
    tables = set(inspect(engine).get_table_names())
    assert {"clinic", "staff", "patient", "invitation", "consentrecord", "refresh_token", "audit_event"} <= tables


def test_the_postgres_run_really_uses_postgres(database_url: str, pytestconfig) -> None:  # type: ignore[no-untyped-def]
    expected = "postgresql" if pytestconfig.getoption("--require-postgres") else get_engine().dialect.name
    assert get_engine().dialect.name == expected


def test_0019_seals_the_recipients_of_rows_written_before_it_keeping_their_dedup_identity(
    database_url: str,
    mailbox,  # type: ignore[no-untyped-def]
) -> None:
    """Rows queued before migration 0019 (plain addresses, an unkeyed hash of a number in the dedup
    key) are converted: nothing readable is left, each notice is still refused when queued again,
    the email waiting goes out with the Message-ID it had, and erasure finds the client's rows. The
    downgrade gives every row back its address and, where the number is known, its old key."""
    import hashlib
    from datetime import UTC, datetime

    import sqlalchemy as sa
    from alembic import command
    from sqlmodel import Session, select

    from service.db import make_engine, reset_engine, unit_of_work
    from service.models import OutboxMessage
    from service.models.migrate import alembic_config, upgrade
    from service.notify import deliver_due, enqueue_email, enqueue_sms, recipient_index
    from service.notify.outbox import sms_number

    address, other, waiting, sent = "robin@example.org", "sam@example.org", "+447700900123", "+447700900999"

    def sha16(number: str) -> str:
        return hashlib.sha256(number.encode()).hexdigest()[:16]

    reset_engine()
    command.downgrade(alembic_config(database_url), "0018")
    legacy = make_engine(database_url)
    sqlite = legacy.dialect.name == "sqlite"
    now = datetime.now(UTC).replace(tzinfo=None) if sqlite else datetime.now(UTC)
    outbox = sa.table(
        "outbox_message",
        *(sa.column(name) for name in ("id", "kind", "dedup_key", "recipient", "status", "attempts")),
        sa.column("payload", sa.JSON),
        sa.column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    mail = {"subject": "Urgent alert", "text": "Open the portal.", "html": None}
    rows = [
        ("m1", "email", f"email:alert:x1:{address}", address, "pending", mail),
        ("m2", "email", f"email:digest:d1:{other}", other, "sent", mail),
        (
            "m3",
            "sms",
            f"sms:alert:x1:{sha16(waiting)}",
            "sms",
            "pending",
            {"to": waiting, "text": "t", "staff_id": None},
        ),
        ("m4", "sms", f"sms:alert:x0:{sha16(sent)}", "sms", "sent", {"text": "t", "staff_id": None}),
        ("m5", "email", "erased:m5", "erased", "sent", {}),
        ("m6", "push", "push:r1:dev1", "push-subscription:dev1", "sent", {"subscription_id": "dev1"}),
    ]
    with legacy.begin() as conn:
        for row_id, kind, key, recipient, status, payload in rows:
            conn.execute(
                outbox.insert().values(
                    id=row_id,
                    kind=kind,
                    dedup_key=key,
                    recipient=recipient,
                    status=status,
                    attempts=0,
                    payload=payload,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    legacy.dispose()

    upgrade(database_url)
    reset_engine()
    engine = make_engine(database_url)
    with Session(engine) as session:
        stored = " ".join(str(v) for row in session.execute(sa.text("SELECT * FROM outbox_message")) for v in row)
        for readable in (address, other, waiting, sent, sha16(waiting), sha16(sent), "push-subscription:"):
            assert readable not in stored, readable
        assert "recipient" not in {c["name"] for c in inspect(engine).get_columns("outbox_message")}
        by_id = {m.id: m for m in session.exec(select(OutboxMessage)).all()}
        assert by_id["m1"].recipient == address and by_id["m3"].recipient == waiting
        assert sms_number(by_id["m3"]) == waiting and "to" not in by_id["m3"].payload
        assert by_id["m4"].recipient == "sms" and by_id["m5"].recipient == "erased"
        assert by_id["m5"].recipient_index is None and by_id["m6"].recipient == "push-subscription:dev1"
        found = session.exec(
            select(OutboxMessage.id).where(OutboxMessage.recipient_index == recipient_index(address))
        ).all()
        assert found == ["m1"]  # what erasure looks up
        with unit_of_work(session):  # every notice already queued or sent is refused again
            assert enqueue_email(session, to=address, subject="s", text="t", dedup_key="alert:x1") is None
            assert enqueue_email(session, to=other, subject="s", text="t", dedup_key="digest:d1") is None
            assert enqueue_sms(session, to=waiting, text="t", dedup_key="alert:x1") is None
            assert enqueue_sms(session, to=sent, text="t", dedup_key="alert:x0") is None
    deliver_due()  # the waiting email goes out (the text message, with no SMS provider here, waits)
    [delivered] = mailbox.wait_for(1)
    old_id = hashlib.sha256(f"email:alert:x1:{address}".encode()).hexdigest()[:40]
    assert delivered["To"] == address and delivered["Message-ID"] == f"<{old_id}@tandem>"

    reset_engine()
    command.downgrade(alembic_config(database_url), "0018")
    with engine.connect() as conn:
        back = {
            r.id: (r.recipient, r.dedup_key)
            for r in conn.execute(sa.text("SELECT id, recipient, dedup_key FROM outbox_message"))
        }
        payload = conn.execute(sa.select(outbox.c.payload).where(outbox.c.id == "m3")).scalar_one()
    assert back["m1"] == (address, f"email:alert:x1:{address}")
    assert back["m2"] == (other, f"email:digest:d1:{other}")
    assert back["m3"] == ("sms", f"sms:alert:x1:{sha16(waiting)}")
    assert payload["to"] == waiting
    assert back["m5"] == ("erased", "erased:m5") and back["m6"] == ("push-subscription:dev1", "push:r1:dev1")
    engine.dispose()
    upgrade(database_url)
    reset_engine()
