"""audit key ids: each sealed row names the audit key that sealed it, so the key can rotate; the
caseload's week of mood read from a (local_date, patient_id) index

Revision ID: 0015
Revises: 0013
Create Date: 2026-11-30 20:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases (no batch copy on SQLite: the append-only triggers stay).
    # Rows sealed before keep NULL: they were sealed with the first key. The triggers let the sealer
    # set it with seq and hash, once, like them.
    op.add_column('audit_event', sa.Column('key_id', sa.String(length=16), nullable=True))
    op.create_index('ix_checkin_local_date', 'checkin', ['local_date', 'patient_id'], unique=False,
                    postgresql_include=['mood'])


def downgrade() -> None:
    op.drop_index('ix_checkin_local_date', table_name='checkin')
    op.execute("ALTER TABLE audit_event DROP COLUMN key_id")
