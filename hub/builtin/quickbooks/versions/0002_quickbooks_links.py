"""Links between host records and QuickBooks objects.

Revision ID: qbo_0002
Revises: qbo_0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "qbo_0002"
down_revision = "qbo_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qbo_link",
        sa.Column("pk", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(300), nullable=False),
        sa.Column("qbo_id", sa.String(40), nullable=False),
        sa.Column("sync_token", sa.String(20), nullable=True),
        sa.Column("digest", sa.String(64), nullable=True),
        sa.Column("origin", sa.String(8), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("kind", "external_id", name="uq_qbo_link_kind_external"),
    )
    op.create_index("ix_qbo_link_qbo", "qbo_link", ["kind", "qbo_id"])


def downgrade() -> None:
    op.drop_table("qbo_link")
