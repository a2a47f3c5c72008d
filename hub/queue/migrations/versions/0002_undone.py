"""Subjects the operator took back from a plugin (undo per event).

Revision ID: 0002_undone
Revises: 0001_core
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_undone"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_undone",
        sa.Column("plugin", sa.String(100), primary_key=True),
        sa.Column("subject", sa.String(300), primary_key=True),
        sa.Column("undo_event_pk", sa.Integer(), sa.ForeignKey("hub_event.pk"),
                  nullable=False),
        sa.Column("undone_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hub_undone")
