"""staff accounts: emailed password reset links, recovery codes, a pending authenticator, a chosen language

Revision ID: 0018
Revises: 0013
Create Date: 2026-11-30 20:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'staff_password_reset',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('staff_id', sa.String(length=36), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('requested_by', sa.String(length=36), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('staff_password_reset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_password_reset_staff_id'), ['staff_id'], unique=False)
    with op.batch_alter_table('staff', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('totp_pending_secret', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('recovery_codes', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=True))
    # The default only filled existing rows. Dropping it needs a table copy on SQLite, which breaks
    # the foreign keys pointing at staff once rows exist: there the harmless default stays.
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column('staff', 'recovery_codes', server_default=None)


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place (SQLite 3.35+): recreating staff would break the foreign
    # keys that point at it once rows exist.
    with op.batch_alter_table('staff', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('locale')
        batch_op.drop_column('recovery_codes')
        batch_op.drop_column('totp_pending_secret')
    with op.batch_alter_table('staff_password_reset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_password_reset_staff_id'))
    op.drop_table('staff_password_reset')
