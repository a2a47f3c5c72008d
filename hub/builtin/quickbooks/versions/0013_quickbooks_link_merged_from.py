"""A customer link moved by a merge in QuickBooks remembers the customer it was moved from, so
two host contacts that now share one customer do not overwrite it in turn.

Revision ID: qbo_0013
Revises: qbo_0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "qbo_0013"
down_revision = "qbo_0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("qbo_link") as batch:
        batch.add_column(sa.Column("merged_from", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("qbo_link") as batch:
        batch.drop_column("merged_from")
