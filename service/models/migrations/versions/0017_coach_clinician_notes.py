"""coach notes for the clinician: a medication question the coach did not answer, on the client's line

Revision ID: 0017
Revises: 0013
Create Date: 2026-11-30 20:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0017'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('exercise_message') as batch:
        batch.add_column(sa.Column('clinician_note', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('exercise_message', recreate='never') as batch:  # in place: keeps foreign keys
        batch.drop_column('clinician_note')
