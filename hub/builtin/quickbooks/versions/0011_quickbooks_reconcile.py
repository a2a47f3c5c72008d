"""Reconcile's runs (their findings) and the fixes asked for.

Revision ID: qbo_0011
Revises: qbo_0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "qbo_0011"
down_revision = "qbo_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qbo_reconcile_run",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_table(
        "qbo_reconcile_fix",
        sa.Column("finding_id", sa.String(40), primary_key=True),
        sa.Column("action", sa.String(12), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("subject", sa.String(320), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("qbo_reconcile_fix")
    op.drop_table("qbo_reconcile_run")
