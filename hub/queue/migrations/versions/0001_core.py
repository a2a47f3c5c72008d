"""The core's first tables: events, deliveries, plugin state, meta.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = ("hub",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_event",
        sa.Column("pk", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(300), nullable=True),
        sa.UniqueConstraint("source", "key", name="uq_hub_event_source_key"),
    )
    op.create_index("ix_hub_event_subject", "hub_event", ["subject"])
    op.create_table(
        "hub_delivery",
        sa.Column("pk", sa.Integer(), primary_key=True),
        sa.Column("event_pk", sa.Integer(), sa.ForeignKey("hub_event.pk"), nullable=False),
        sa.Column("plugin", sa.String(100), nullable=False),
        sa.Column("hook", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(300), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("event_pk", "plugin", name="uq_hub_delivery_event_plugin"),
    )
    op.create_index("ix_hub_delivery_event_pk", "hub_delivery", ["event_pk"])
    op.create_index("ix_hub_delivery_due", "hub_delivery", ["status", "next_attempt_at"])
    op.create_index("ix_hub_delivery_order", "hub_delivery", ["plugin", "subject", "status"])
    op.create_table(
        "hub_plugin_state",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "hub_meta",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hub_meta")
    op.drop_table("hub_plugin_state")
    op.drop_table("hub_delivery")
    op.drop_table("hub_event")
