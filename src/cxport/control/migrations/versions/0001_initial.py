"""initial control schema

Revision ID: 0001
Revises:
Create Date: 2026-12-06 16:30:27.943059
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cx_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "cx_workspaces",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "cx_deliveries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["cx_workspaces.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cx_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cx_deliveries_next_at"), ["next_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cx_deliveries_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cx_deliveries_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "cx_users",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["cx_workspaces.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "email"),
    )
    with op.batch_alter_table("cx_users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cx_users_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "cx_webhooks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=128), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["cx_workspaces.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cx_webhooks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cx_webhooks_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "cx_export_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=128), nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("export", sa.String(length=64), nullable=False),
        sa.Column("date_from", sa.Date(), nullable=False),
        sa.Column("date_to", sa.Date(), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("bytes", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("file_name", sa.String(length=400), nullable=True),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["cx_users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["cx_workspaces.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cx_export_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cx_export_requests_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cx_export_requests_requested_by"), ["requested_by"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cx_export_requests_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cx_export_requests_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "cx_notifications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("export_request_id", sa.String(length=32), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["cx_users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["cx_workspaces.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cx_notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cx_notifications_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cx_notifications_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cx_notifications_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "cx_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["cx_users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cx_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cx_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "cx_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["cx_users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("cx_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cx_tokens_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cx_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cx_tokens_user_id"))

    op.drop_table("cx_tokens")
    with op.batch_alter_table("cx_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cx_sessions_user_id"))

    op.drop_table("cx_sessions")
    with op.batch_alter_table("cx_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cx_notifications_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_cx_notifications_user_id"))
        batch_op.drop_index(batch_op.f("ix_cx_notifications_created_at"))

    op.drop_table("cx_notifications")
    with op.batch_alter_table("cx_export_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cx_export_requests_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_cx_export_requests_state"))
        batch_op.drop_index(batch_op.f("ix_cx_export_requests_requested_by"))
        batch_op.drop_index(batch_op.f("ix_cx_export_requests_created_at"))

    op.drop_table("cx_export_requests")
    with op.batch_alter_table("cx_webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cx_webhooks_workspace_id"))

    op.drop_table("cx_webhooks")
    with op.batch_alter_table("cx_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cx_users_workspace_id"))

    op.drop_table("cx_users")
    with op.batch_alter_table("cx_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cx_deliveries_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_cx_deliveries_state"))
        batch_op.drop_index(batch_op.f("ix_cx_deliveries_next_at"))

    op.drop_table("cx_deliveries")
    op.drop_table("cx_workspaces")
    op.drop_table("cx_meta")
