"""The mirror keeps each customer's own Balance (open invoices less unapplied payments and
credits, as QuickBooks reckons it) and whether each invoice is void in QuickBooks.

Revision ID: qbo_0012
Revises: qbo_0011
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "qbo_0012"
down_revision = "qbo_0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("qbo_customer_mirror") as batch:
        batch.add_column(sa.Column("balance", sa.String(30), nullable=True))
    with op.batch_alter_table("qbo_invoice_mirror") as batch:
        batch.add_column(sa.Column("voided", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("qbo_invoice_mirror") as batch:
        batch.drop_column("voided")
    with op.batch_alter_table("qbo_customer_mirror") as batch:
        batch.drop_column("balance")
