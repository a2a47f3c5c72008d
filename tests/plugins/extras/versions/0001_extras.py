"""The extras plugin's own table, on its own branch.

Revision ID: extras_0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "extras_0001"
down_revision = None
branch_labels = ("extras",)
depends_on = None


def upgrade() -> None:
    op.create_table("extras_note", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("text", sa.Text(), nullable=False))


def downgrade() -> None:
    op.drop_table("extras_note")
