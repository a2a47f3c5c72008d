"""The mirror keeps each invoice's amounts in the home currency too (multicurrency companies).

Revision ID: qbo_0007
Revises: qbo_0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "qbo_0007"
down_revision = "qbo_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("qbo_invoice_mirror") as batch:
        batch.add_column(sa.Column("home_total", sa.String(30), nullable=True))
        batch.add_column(sa.Column("home_balance", sa.String(30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("qbo_invoice_mirror") as batch:
        batch.drop_column("home_balance")
        batch.drop_column("home_total")
