"""A link remembers when the sweep saw its QuickBooks object deleted there, so the host API
stops naming an invoice QuickBooks no longer holds as if it stood.

Revision ID: qbo_0014
Revises: qbo_0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "qbo_0014"
down_revision = "qbo_0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("qbo_link") as batch:
        batch.add_column(sa.Column("deleted_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("qbo_link") as batch:
        batch.drop_column("deleted_at")
