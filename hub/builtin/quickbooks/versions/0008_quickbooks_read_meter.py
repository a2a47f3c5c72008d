"""Reads per company and month, metered by Intuit, and whether reads are held back.

Revision ID: qbo_0008
Revises: qbo_0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "qbo_0008"
down_revision = "qbo_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qbo_read_meter",
        sa.Column("realm_id", sa.String(40), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("reads", sa.Integer(), nullable=False),
        sa.Column("held_until", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("qbo_read_meter")
