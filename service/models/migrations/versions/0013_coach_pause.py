"""coach pause: the clinician (or a moderate risk signal) pauses the coach for one assignment

Revision ID: 0013
Revises: 0008
Create Date: 2026-11-30 18:35:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('assignment') as batch:
        batch.add_column(sa.Column('coach_paused_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('coach_pause_kind', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('coach_pause_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('assignment') as batch:
        batch.drop_column('coach_pause_reason')
        batch.drop_column('coach_pause_kind')
        batch.drop_column('coach_paused_at')
