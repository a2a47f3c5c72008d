"""The bookings the gate refused.

Revision ID: booking_gate_0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "booking_gate_0001"
down_revision = None
branch_labels = ("booking_gate",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "booking_gate_refusal",
        sa.Column("external_id", sa.String(255), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("balance", sa.String(30), nullable=True),
        sa.Column("threshold", sa.String(30), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("refused_at", sa.DateTime(), nullable=False),
        sa.Column("lifted_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_booking_gate_refusal_email", "booking_gate_refusal", ["email"])


def downgrade() -> None:
    op.drop_index("ix_booking_gate_refusal_email", "booking_gate_refusal")
    op.drop_table("booking_gate_refusal")
