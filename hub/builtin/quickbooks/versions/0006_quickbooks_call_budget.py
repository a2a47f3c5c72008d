"""A company's minute of QuickBooks requests, shared by every worker process.

Revision ID: qbo_0006
Revises: qbo_0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "qbo_0006"
down_revision = "qbo_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qbo_call_budget",
        sa.Column("realm_id", sa.String(40), primary_key=True),
        sa.Column("grants", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("qbo_call_budget")
