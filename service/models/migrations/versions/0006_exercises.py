"""exercises

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 22:20:11.461932
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('assignment',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('clinic_id', sa.String(length=36), nullable=False),
    sa.Column('patient_id', sa.String(length=36), nullable=False),
    sa.Column('assigned_by', sa.String(length=36), nullable=False),
    sa.Column('exercise_code', sa.String(length=64), nullable=False),
    sa.Column('exercise_version', sa.Integer(), nullable=False),
    sa.Column('every_days', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('instructions', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('pauses', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assigned_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_patient_id'), ['patient_id'], unique=False)

    op.create_table('exercise_session',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('clinic_id', sa.String(length=36), nullable=False),
    sa.Column('assignment_id', sa.String(length=36), nullable=False),
    sa.Column('patient_id', sa.String(length=36), nullable=False),
    sa.Column('exercise_code', sa.String(length=64), nullable=False),
    sa.Column('exercise_version', sa.Integer(), nullable=False),
    sa.Column('step_index', sa.Integer(), nullable=False),
    sa.Column('answers_json', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('engine', sa.String(length=16), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], ),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('exercise_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exercise_session_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exercise_session_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('uq_exercise_session_in_progress', ['assignment_id'], unique=True, sqlite_where=sa.text("status = 'in_progress'"), postgresql_where=sa.text("status = 'in_progress'"))

    op.create_table('exercise_message',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('step_index', sa.Integer(), nullable=False),
    sa.Column('engine', sa.String(length=16), nullable=True),
    sa.Column('fallback_reason', sa.String(length=200), nullable=True),
    sa.Column('guardrail_reasons', sa.JSON(), nullable=False),
    sa.Column('traps', sa.JSON(), nullable=False),
    sa.Column('risk_level', sa.String(length=16), nullable=True),
    sa.Column('risk_categories', sa.JSON(), nullable=False),
    sa.Column('risk_engine_version', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['exercise_session.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'seq')
    )
    with op.batch_alter_table('exercise_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exercise_message_session_id'), ['session_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('exercise_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exercise_message_session_id'))

    op.drop_table('exercise_message')
    with op.batch_alter_table('exercise_session', schema=None) as batch_op:
        batch_op.drop_index('uq_exercise_session_in_progress', sqlite_where=sa.text("status = 'in_progress'"), postgresql_where=sa.text("status = 'in_progress'"))
        batch_op.drop_index(batch_op.f('ix_exercise_session_patient_id'))
        batch_op.drop_index(batch_op.f('ix_exercise_session_assignment_id'))

    op.drop_table('exercise_session')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_patient_id'))

    op.drop_table('assignment')
