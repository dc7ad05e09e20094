"""per-patient data keys (crypto-shredding), patient contacts, discharge, erasure requests, record retention

Revision ID: 0014
Revises: 0013

Data migration: every existing patient gets a data key, and every value of a per-patient column
written before (sealed by the key ring) is sealed again under its patient's key, so erasure reaches
old data too. Existing erasure requests become rows of the admins' queue, due a month after they
were made. The list of columns below is frozen here on purpose: later changes to the models must
not change what this migration did.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, encryption context, SQL giving the row's patient id from alias t)
SEALED_COLUMNS = (
    ("checkin", "note", "checkin.note", "t.patient_id"),
    ("assignment", "instructions", "assignment.instructions", "t.patient_id"),
    ("assignment", "coach_pause_reason", "assignment.coach_pause_reason", "t.patient_id"),
    ("exercise_session", "answers_json", "exercise_session.answers", "t.patient_id"),
    (
        "exercise_message",
        "text",
        "exercise_message.text",
        "(SELECT s.patient_id FROM exercise_session s WHERE s.id = t.session_id)",
    ),
    ("safety_plan_version", "sections_json", "safety_plan_version.sections", "t.patient_id"),
    ("patient_summary", "pdf", "patient_summary.pdf", "t.patient_id"),
    ("alert", "resolution_note", "alert.resolution_note", "t.patient_id"),
    ("alert_signal", "evidence_json", "alert_signal.evidence", "(SELECT a.patient_id FROM alert a WHERE a.id = t.alert_id)"),
)
BATCH = 500


def upgrade() -> None:
    # Columns added in place (ALTER TABLE ... ADD COLUMN): copying these tables on SQLite would trip
    # the foreign keys that point at their rows.
    with op.batch_alter_table("patient", recreate="never") as batch:
        batch.add_column(sa.Column("discharged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("discharge_reason", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("enrolment_key", sa.String(length=64), nullable=True))
    # A unique index, not a constraint: SQLite adds it without copying the table.
    op.create_index("ix_patient_enrolment_key", "patient", ["enrolment_key"], unique=True)
    with op.batch_alter_table("clinic", recreate="never") as batch:
        batch.add_column(
            sa.Column("record_retention_years", sa.Integer(), nullable=False, server_default=sa.text("20"))
        )
    op.create_table(
        "patient_key",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("wrapped_key", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.PrimaryKeyConstraint("patient_id"),
    )
    op.create_table(
        "patient_contact",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("date_of_birth", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("contact_times", sa.Text(), nullable=True),
        sa.Column("emergency_name", sa.Text(), nullable=True),
        sa.Column("emergency_relation", sa.Text(), nullable=True),
        sa.Column("emergency_phone", sa.Text(), nullable=True),
        sa.Column("name_dob_index", sa.String(length=64), nullable=True),
        sa.Column("phone_index", sa.String(length=64), nullable=True),
        sa.Column("email_index", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.PrimaryKeyConstraint("patient_id"),
    )
    op.create_index("ix_patient_contact_name_dob_index", "patient_contact", ["name_dob_index"])
    op.create_index("ix_patient_contact_phone_index", "patient_contact", ["phone_index"])
    op.create_index("ix_patient_contact_email_index", "patient_contact", ["email_index"])
    op.create_table(
        "erasure_request",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("keep_reason", sa.String(length=32), nullable=True),
        sa.Column("keep_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_erasure_request_clinic_id", "erasure_request", ["clinic_id"])
    op.create_index("ix_erasure_request_patient_id", "erasure_request", ["patient_id"])
    _queue_existing_requests()
    _seal_existing_text()


def _aware(value: object) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _one_month_after(when: datetime) -> datetime:
    year, month = (when.year + 1, 1) if when.month == 12 else (when.year, when.month + 1)
    return when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))


def _for_db(conn: sa.engine.Connection, when: datetime) -> datetime:
    return when.replace(tzinfo=None) if conn.dialect.name == "sqlite" else when


def _queue_existing_requests() -> None:
    import uuid

    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, clinic_id, erasure_requested_at FROM patient WHERE erasure_requested_at IS NOT NULL")
    ).all()
    for patient_id, clinic_id, requested in rows:
        at = _aware(requested)
        conn.execute(
            sa.text(
                "INSERT INTO erasure_request (id, clinic_id, patient_id, requested_at, due_at, status) "
                "VALUES (:id, :c, :p, :r, :d, 'pending')"
            ),
            {
                "id": str(uuid.uuid4()),
                "c": clinic_id,
                "p": patient_id,
                "r": _for_db(conn, at),
                "d": _for_db(conn, _one_month_after(at)),
            },
        )


def _seal_existing_text() -> None:
    from service.crypto import get_cipher, new_data_key, seal_for_patient, wrap_data_key

    conn = op.get_bind()
    cipher = get_cipher()
    keys: dict[str, bytes] = {}
    now = _for_db(conn, datetime.now(UTC))
    for (patient_id,) in conn.execute(sa.text("SELECT id FROM patient")).all():
        keys[patient_id] = new_data_key()
        conn.execute(
            sa.text("INSERT INTO patient_key (patient_id, wrapped_key, created_at) VALUES (:p, :w, :t)"),
            {"p": patient_id, "w": wrap_data_key(keys[patient_id], patient_id), "t": now},
        )
    for table, column, context, patient_sql in SEALED_COLUMNS:
        last = ""
        while True:
            rows = conn.execute(
                sa.text(
                    f"SELECT t.id, {patient_sql}, t.{column} FROM {table} t "  # noqa: S608 (frozen names above)
                    f"WHERE t.id > :last AND t.{column} LIKE 'v1.%' ORDER BY t.id LIMIT {BATCH}"
                ),
                {"last": last},
            ).all()
            if not rows:
                break
            for row_id, patient_id, value in rows:
                plain = cipher.decrypt(value, context)
                sealed = seal_for_patient(plain, context, patient_id, keys[patient_id])
                conn.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :id"), {"v": sealed, "id": row_id})  # noqa: S608
            last = rows[-1][0]


def downgrade() -> None:
    _unseal_text()
    op.drop_index("ix_erasure_request_patient_id", table_name="erasure_request")
    op.drop_index("ix_erasure_request_clinic_id", table_name="erasure_request")
    op.drop_table("erasure_request")
    op.drop_index("ix_patient_contact_email_index", table_name="patient_contact")
    op.drop_index("ix_patient_contact_phone_index", table_name="patient_contact")
    op.drop_index("ix_patient_contact_name_dob_index", table_name="patient_contact")
    op.drop_table("patient_contact")
    op.drop_table("patient_key")
    # ALTER TABLE ... DROP COLUMN in place (SQLite 3.35+): recreating these tables would break the
    # foreign keys that point at them.
    with op.batch_alter_table("clinic", recreate="never") as batch:
        batch.drop_column("record_retention_years")
    op.drop_index("ix_patient_enrolment_key", table_name="patient")
    with op.batch_alter_table("patient", recreate="never") as batch:
        batch.drop_column("enrolment_key")
        batch.drop_column("erased_at")
        batch.drop_column("discharge_reason")
        batch.drop_column("discharged_at")


def _unseal_text() -> None:
    """Back to key-ring sealing; text of erased patients (destroyed keys) stays unreadable, as erased."""
    from service.crypto import get_cipher, open_for_patient, unwrap_data_key

    conn = op.get_bind()
    cipher = get_cipher()
    keys = {
        patient_id: unwrap_data_key(wrapped, patient_id)
        for patient_id, wrapped in conn.execute(sa.text("SELECT patient_id, wrapped_key FROM patient_key")).all()
        if wrapped is not None
    }
    for table, column, context, patient_sql in SEALED_COLUMNS:
        rows = conn.execute(
            sa.text(f"SELECT t.id, {patient_sql}, t.{column} FROM {table} t WHERE t.{column} LIKE 'p1.%'")  # noqa: S608
        ).all()
        for row_id, patient_id, value in rows:
            key = keys.get(patient_id)
            plain = open_for_patient(value, context, key) if key else ""
            conn.execute(
                sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :id"),  # noqa: S608
                {"v": cipher.encrypt(plain, context), "id": row_id},
            )
