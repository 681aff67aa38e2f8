"""scheduled exports: the schedules, and a job's (schedule, period) key

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cx_schedules",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("export", sa.String(length=64), nullable=False),
        sa.Column("every", sa.String(length=8), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("lateness", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("host_key", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["cx_users.id"]),
        sa.ForeignKeyConstraint(["workspace_id"], ["cx_workspaces.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name"),
    )
    op.create_index(
        op.f("ix_cx_schedules_workspace_id"), "cx_schedules", ["workspace_id"], unique=False
    )
    op.add_column(
        "cx_export_requests", sa.Column("schedule_id", sa.String(length=32), nullable=True)
    )
    op.add_column("cx_export_requests", sa.Column("period_start", sa.DateTime(), nullable=True))
    op.create_index(
        "ux_cx_export_requests_schedule_period",
        "cx_export_requests",
        ["schedule_id", "period_start"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_cx_export_requests_schedule_period", table_name="cx_export_requests")
    with op.batch_alter_table("cx_export_requests", schema=None) as batch_op:
        batch_op.drop_column("period_start")
        batch_op.drop_column("schedule_id")
    op.drop_index(op.f("ix_cx_schedules_workspace_id"), table_name="cx_schedules")
    op.drop_table("cx_schedules")
