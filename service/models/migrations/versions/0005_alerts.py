"""alerts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 22:11:20.327038
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('alert',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('clinic_id', sa.String(length=36), nullable=False),
    sa.Column('patient_id', sa.String(length=36), nullable=False),
    sa.Column('assigned_to', sa.String(length=36), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ack_deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('last_escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=36), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=36), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.String(length=32), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['assigned_to'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['resolved_by'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_ack_deadline_at'), ['ack_deadline_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_assigned_to'), ['assigned_to'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_alert_queue', ['clinic_id', 'status', 'severity'], unique=False)
        batch_op.create_index('uq_alert_open_reason', ['patient_id', 'reason'], unique=True, sqlite_where=sa.text("status != 'resolved'"), postgresql_where=sa.text("status != 'resolved'"))

    op.create_table('alert_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=36), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alert_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_event_alert_id'), ['alert_id'], unique=False)

    op.create_table('alert_signal',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('source_type', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('evidence_json', sa.Text(), nullable=False),
    sa.Column('engine_version', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alert_signal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_signal_alert_id'), ['alert_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('alert_signal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_signal_alert_id'))

    op.drop_table('alert_signal')
    with op.batch_alter_table('alert_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_event_alert_id'))

    op.drop_table('alert_event')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index('uq_alert_open_reason', sqlite_where=sa.text("status != 'resolved'"), postgresql_where=sa.text("status != 'resolved'"))
        batch_op.drop_index('ix_alert_queue')
        batch_op.drop_index(batch_op.f('ix_alert_patient_id'))
        batch_op.drop_index(batch_op.f('ix_alert_assigned_to'))
        batch_op.drop_index(batch_op.f('ix_alert_ack_deadline_at'))

    op.drop_table('alert')
