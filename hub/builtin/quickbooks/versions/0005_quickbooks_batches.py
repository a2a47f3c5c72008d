"""Batch calls recorded before they are sent, so a lost answer is resent, never replanned.

Revision ID: qbo_0005
Revises: qbo_0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "qbo_0005"
down_revision = "qbo_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qbo_batch",
        sa.Column("request_id", sa.String(36), primary_key=True),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("sending_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_qbo_batch_purpose", "qbo_batch", ["purpose"])
    op.create_index("ix_qbo_batch_status", "qbo_batch", ["status"])


def downgrade() -> None:
    op.drop_table("qbo_batch")
