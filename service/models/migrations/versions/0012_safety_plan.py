"""safety plan: every version of a client's Stanley-Brown safety plan

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


def downgrade() -> None:
    with op.batch_alter_table("safety_plan_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safety_plan_version_patient_id"))
    op.drop_table("safety_plan_version")
