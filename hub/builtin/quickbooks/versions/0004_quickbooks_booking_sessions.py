"""Monthly-billed booking sessions waiting for their month's invoice.

Revision ID: qbo_0004
Revises: qbo_0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "qbo_0004"
down_revision = "qbo_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qbo_booking_session",
        sa.Column("booking_id", sa.String(300), primary_key=True),
        sa.Column("client_key", sa.String(300), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("booking", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("invoice_external_id", sa.String(300), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_qbo_booking_session_client_key", "qbo_booking_session",
                    ["client_key"])
    op.create_index("ix_qbo_booking_session_month", "qbo_booking_session", ["month"])


def downgrade() -> None:
    op.drop_table("qbo_booking_session")
