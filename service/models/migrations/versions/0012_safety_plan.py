"""safety plan, on-call rota, staff channels, staff push subscriptions, alert feedback

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safety_plan_version",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sections_json", sa.Text(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("author_type", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("patient_id", "version", name="uq_safety_plan_version"),
    )
    with op.batch_alter_table("safety_plan_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_plan_version_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "on_call_shift",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_on_call_shift_clinic_time", "on_call_shift", ["clinic_id", "starts_at", "ends_at"])
    op.create_index(op.f("ix_on_call_shift_staff_id"), "on_call_shift", ["staff_id"])
    op.create_table(
        "staff_channels",
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("push", sa.Boolean(), nullable=False),
        sa.Column("sms", sa.Boolean(), nullable=False),
        sa.Column("sms_number", sa.Text(), nullable=True),
        sa.Column("routine_digest", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("staff_id"),
    )
    op.create_table(
        "staff_push_subscription",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("endpoint_hash", sa.String(length=64), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("endpoint_hash"),
    )
    op.create_index(op.f("ix_staff_push_subscription_staff_id"), "staff_push_subscription", ["staff_id"])
    op.create_table(
        "alert_feedback",
        sa.Column("alert_id", sa.String(length=36), nullable=False),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"]),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    op.create_index(op.f("ix_alert_feedback_clinic_id"), "alert_feedback", ["clinic_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_alert_feedback_clinic_id"), table_name="alert_feedback")
    op.drop_table("alert_feedback")
    op.drop_index(op.f("ix_staff_push_subscription_staff_id"), table_name="staff_push_subscription")
    op.drop_table("staff_push_subscription")
    op.drop_table("staff_channels")
    op.drop_index(op.f("ix_on_call_shift_staff_id"), table_name="on_call_shift")
    op.drop_index("ix_on_call_shift_clinic_time", table_name="on_call_shift")
    op.drop_table("on_call_shift")
    with op.batch_alter_table("safety_plan_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safety_plan_version_patient_id"))
    op.drop_table("safety_plan_version")
