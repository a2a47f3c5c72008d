"""Whether the first import waits for the operator (connected in the browser: "Import now" or
"Review first").

Revision ID: qbo_0010
Revises: qbo_0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "qbo_0010"
down_revision = "qbo_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("qbo_connection") as table:
        table.add_column(sa.Column("first_import", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("qbo_connection") as table:
        table.drop_column("first_import")
