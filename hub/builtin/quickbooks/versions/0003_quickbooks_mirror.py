"""The mirror of QuickBooks customers and invoices, the change cursor, known balances.

Revision ID: qbo_0003
Revises: qbo_0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "qbo_0003"
down_revision = "qbo_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qbo_customer_mirror",
        sa.Column("qbo_id", sa.String(40), primary_key=True),
        sa.Column("display_name", sa.String(500), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_qbo_customer_mirror_email", "qbo_customer_mirror", ["email"])
    op.create_table(
        "qbo_invoice_mirror",
        sa.Column("qbo_id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("doc_number", sa.String(40), nullable=True),
        sa.Column("total", sa.String(30), nullable=False),
        sa.Column("balance", sa.String(30), nullable=False),
        sa.Column("txn_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_qbo_invoice_mirror_customer_id", "qbo_invoice_mirror",
                    ["customer_id"])
    with op.batch_alter_table("qbo_connection") as batch:
        batch.add_column(sa.Column("cdc_cursor", sa.DateTime(), nullable=True))
    with op.batch_alter_table("qbo_link") as batch:
        batch.add_column(sa.Column("balance", sa.String(30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("qbo_link") as batch:
        batch.drop_column("balance")
    with op.batch_alter_table("qbo_connection") as batch:
        batch.drop_column("cdc_cursor")
    op.drop_table("qbo_invoice_mirror")
    op.drop_table("qbo_customer_mirror")
