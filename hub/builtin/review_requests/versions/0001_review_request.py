"""The review_requests plugin's own table, on its own branch: one row per customer asked.

Revision ID: review_requests_0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "review_requests_0001"
down_revision = None
branch_labels = ("review_requests",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_request",
        sa.Column("pk", sa.Integer(), primary_key=True),
        sa.Column("customer", sa.String(254), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("delivery_key", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(300), nullable=False),
        sa.Column("invoice_external_id", sa.String(255), nullable=False),
        sa.Column("invoice_number", sa.String(21)),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("reserved_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime()),
        sa.UniqueConstraint("customer", name="uq_review_request_customer"),
    )


def downgrade() -> None:
    op.drop_table("review_request")
