"""audit seal: rows are written unsealed and sealed later (seq, HMAC chain); the table is append-only

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 17:15:52.529352
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What a row says; the sealer may set seq, prev_hash and hash once, and nothing else may change.
CONTENT = ('id', 'at', 'actor_type', 'actor_id', 'clinic_id', 'action', 'entity_type', 'entity_id',
           'patient_id', 'request_id', 'detail')

PG_FUNCTION = """
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL
           AND ({new}) IS NOT DISTINCT FROM ({old}) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
""".format(
    new=', '.join(f'NEW.{c}::text' if c == 'detail' else f'NEW.{c}' for c in CONTENT),
    old=', '.join(f'OLD.{c}::text' if c == 'detail' else f'OLD.{c}' for c in CONTENT),
)

SQLITE_NO_UPDATE = """
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
WHEN OLD.seq IS NOT NULL OR NEW.seq IS NULL OR NEW.hash IS NULL OR {changed}
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END
""".format(changed=' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in CONTENT))

SQLITE_NO_DELETE = """
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END
"""


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.alter_column('prev_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.alter_column('hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_audit_event_seq'), ['seq'], unique=True)
    # The old unkeyed SHA-256 chain proves nothing: every existing row is sealed again, in id order,
    # by the first run of the sealer.
    op.execute("UPDATE audit_event SET prev_hash = NULL, hash = NULL")

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
        )
    else:
        op.execute(SQLITE_NO_UPDATE)
        op.execute(SQLITE_NO_DELETE)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER audit_event_no_delete")
        op.execute("DROP TRIGGER audit_event_no_update")
    zero = '0' * 64
    op.execute(f"UPDATE audit_event SET prev_hash = '{zero}' WHERE prev_hash IS NULL")
    op.execute(f"UPDATE audit_event SET hash = '{zero}' WHERE hash IS NULL")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_seq'))
        batch_op.alter_column('hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.alter_column('prev_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.drop_column('seq')
