"""qbo_link holds only links: items, tax codes and exchange rates get tables of their own, and a
void a column (``voided_at``) instead of the word "void" in place of the content hash.

The rows already kept move to their new homes: an exchange rate's ``qbo_id`` was the rate and
its ``external_id`` "EUR 2026-03-28"; an item's ``digest`` "fallback" meant it went on the
default item since ``updated_at``; a tax code's ``external_id`` was "20" or "20=<setting's
name>" and its ``digest`` "<TaxRate Id>|<code name>". A row that does not read so is dropped:
each is a cache, read again from QuickBooks when next needed.

Revision ID: qbo_0009
Revises: qbo_0008
Create Date: 2026-12-05
"""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "qbo_0009"
down_revision = "qbo_0008"
branch_labels = None
depends_on = None

MOVED = ("exchange_rate", "item", "tax_code")

LINK = sa.table(
    "qbo_link", sa.column("pk", sa.Integer()), sa.column("kind", sa.String()),
    sa.column("external_id", sa.String()), sa.column("qbo_id", sa.String()),
    sa.column("sync_token", sa.String()), sa.column("digest", sa.String()),
    sa.column("origin", sa.String()), sa.column("voided_at", sa.DateTime()),
    sa.column("updated_at", sa.DateTime()))
RATE = sa.table(
    "qbo_exchange_rate", sa.column("currency", sa.String()), sa.column("day", sa.Date()),
    sa.column("rate", sa.String()), sa.column("fetched_at", sa.DateTime()))
ITEM = sa.table(
    "qbo_item", sa.column("name", sa.String()), sa.column("qbo_id", sa.String()),
    sa.column("fallback_since", sa.DateTime()), sa.column("updated_at", sa.DateTime()))
TAX_CODE = sa.table(
    "qbo_tax_code", sa.column("percent", sa.String()), sa.column("asked", sa.String()),
    sa.column("code_id", sa.String()), sa.column("code_name", sa.String()),
    sa.column("rate_id", sa.String()), sa.column("chosen_at", sa.DateTime()))


def upgrade() -> None:
    op.create_table(
        "qbo_item",
        sa.Column("name", sa.String(300), primary_key=True),
        sa.Column("qbo_id", sa.String(40), nullable=False),
        sa.Column("fallback_since", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "qbo_tax_code",
        sa.Column("percent", sa.String(20), primary_key=True),
        sa.Column("asked", sa.String(100), primary_key=True),
        sa.Column("code_id", sa.String(40), nullable=False),
        sa.Column("code_name", sa.String(100), nullable=False),
        sa.Column("rate_id", sa.String(40), nullable=True),
        sa.Column("chosen_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "qbo_exchange_rate",
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("rate", sa.String(40), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table("qbo_link") as batch:
        batch.add_column(sa.Column("voided_at", sa.DateTime(), nullable=True))

    conn = op.get_bind()
    rows = conn.execute(sa.select(LINK).where(LINK.c.kind.in_(MOVED))).mappings().all()
    rates, items, codes = [], [], []
    for row in rows:
        if row["kind"] == "exchange_rate":
            rates += _rate(row)
        elif row["kind"] == "item":
            fallback = row["digest"] == "fallback"
            items.append(dict(name=row["external_id"], qbo_id=row["qbo_id"],
                              fallback_since=row["updated_at"] if fallback else None,
                              updated_at=row["updated_at"]))
        else:
            percent, _, asked = str(row["external_id"]).partition("=")
            rate_id, _, name = str(row["digest"] or "").partition("|")
            codes.append(dict(percent=percent[:20], asked=asked[:100], code_id=row["qbo_id"],
                              code_name=name, rate_id=rate_id or None,
                              chosen_at=row["updated_at"]))
    for table, values in ((RATE, rates), (ITEM, items), (TAX_CODE, codes)):
        if values:
            conn.execute(sa.insert(table), values)
    conn.execute(sa.delete(LINK).where(LINK.c.kind.in_(MOVED)))
    conn.execute(sa.update(LINK).where(LINK.c.digest == "void").values(
        voided_at=LINK.c.updated_at, digest=None))


def _rate(row: Any) -> list[dict[str, Any]]:
    currency, _, day = str(row["external_id"]).partition(" ")
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return []
    if len(currency) != 3:
        return []
    return [dict(currency=currency, day=when, rate=row["qbo_id"], fetched_at=row["updated_at"])]


def downgrade() -> None:
    conn = op.get_bind()
    links: list[dict[str, Any]] = []

    def link(kind: str, external_id: str, qbo_id: str, digest: str | None, origin: str,
             at: datetime) -> None:
        links.append(dict(kind=kind, external_id=external_id, qbo_id=qbo_id, sync_token=None,
                          digest=digest, origin=origin, updated_at=at))

    for r in conn.execute(sa.select(RATE)).mappings():
        link("exchange_rate", f"{r['currency']} {r['day'].isoformat()}", r["rate"], None, "qbo",
             r["fetched_at"])
    for i in conn.execute(sa.select(ITEM)).mappings():
        fallback = i["fallback_since"] is not None
        link("item", i["name"], i["qbo_id"], "fallback" if fallback else None, "host",
             i["fallback_since"] if fallback else i["updated_at"])
    for c in conn.execute(sa.select(TAX_CODE)).mappings():
        link("tax_code", c["percent"] + (f"={c['asked']}" if c["asked"] else ""), c["code_id"],
             f"{c['rate_id'] or ''}|{c['code_name']}"[:64], "host", c["chosen_at"])
    conn.execute(sa.update(LINK).where(LINK.c.voided_at.is_not(None)).values(
        digest="void", sync_token=None))
    if links:
        conn.execute(sa.insert(LINK), links)
    with op.batch_alter_table("qbo_link") as batch:
        batch.drop_column("voided_at")
    op.drop_table("qbo_exchange_rate")
    op.drop_table("qbo_tax_code")
    op.drop_table("qbo_item")
