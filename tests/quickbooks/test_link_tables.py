"""qbo_link holds only links: a database from before (revision qbo_0008), with rates, item
fallbacks, tax codes and voids kept in qbo_link's columns, is upgraded and each is found in the
table or column named for it, and read from there."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from freezegun import freeze_time

from hub.builtin import quickbooks as quickbooks_plugin
from hub.builtin.quickbooks import currencies, items, links, taxes
from hub.builtin.quickbooks.api import calling
from hub.builtin.quickbooks.models import QboExchangeRate, QboItem, QboLink, QboTaxCode
from hub.builtin.quickbooks.settings import Settings
from hub.clock import utcnow
from hub.config import load_config
from hub.hub import Hub
from hub.queue import db
from tests.conftest import base_env
from tests.quickbooks.conftest import qbo_ctx

VERSIONS = Path(quickbooks_plugin.__file__).parent / "versions"
# qbo_link as revision qbo_0008 left it
LINK = sa.table("qbo_link", *(sa.column(c, sa.String()) for c in (
    "kind", "external_id", "qbo_id", "sync_token", "digest", "origin")),
    sa.column("updated_at", sa.DateTime()))


def upgrade(engine: sa.Engine, version_table: str, location: Path, to: str,
            step: Any = command.upgrade) -> None:
    """One chain to ``to``, configured as ``hub.queue.db.migrate`` configures it."""
    with engine.begin() as conn:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(db.MIGRATIONS))
        cfg.set_main_option("path_separator", "os")
        cfg.set_main_option("version_locations", str(location))
        cfg.attributes["connection"] = conn
        cfg.attributes["version_table"] = version_table
        step(cfg, to)


def at_0008(engine: sa.Engine) -> None:
    upgrade(engine, "alembic_version", db.MIGRATIONS / "versions", "heads")
    upgrade(engine, "alembic_version_quickbooks", VERSIONS, "qbo_0008")


def old_rows(now: Any) -> list[dict[str, Any]]:
    stale = now - timedelta(days=3)

    def row(kind: str, external_id: str, qbo_id: str, digest: str | None = None,
            origin: str = "host", at: Any = now, sync_token: str | None = None) -> dict[str, Any]:
        return dict(kind=kind, external_id=external_id, qbo_id=qbo_id, sync_token=sync_token,
                    digest=digest, origin=origin, updated_at=at)

    return [
        row("customer", "c-1", "58", "a" * 64, sync_token="2"),
        row("invoice", "inv-1", "130", "b" * 64, sync_token="0"),
        row("invoice", "inv-2", "131", "void"),
        row("payment", "inv-1@0.00", "140", sync_token="0"),
        row("exchange_rate", "EUR 2026-03-28", "1.0825", origin="qbo"),
        row("item", "massage", "7"),
        row("item", "deep tissue", "3", "fallback"),
        row("item", "hot stones", "3", "fallback", at=stale),
        row("tax_code", "20", "5", "9|20.0% S"),
        row("tax_code", "0=exempt", "11", "|Exempt"),
    ]


def test_an_upgrade_moves_rates_items_tax_codes_and_voids_out_of_the_links(
        tmp_path: Path, database_url: str) -> None:
    config = load_config({**base_env(tmp_path), "HUB_DATABASE_URL": database_url},
                         dotenv=False)
    before = Hub(config, entrypoints=False, migrate_db=False,
                 plugins=[("quickbooks", quickbooks_plugin)])
    at_0008(before.engine)
    now = utcnow().replace(microsecond=0)
    with before.engine.begin() as conn:
        conn.execute(sa.insert(LINK), old_rows(now))
    before.close()

    hub = Hub(config, entrypoints=False, plugins=[("quickbooks", quickbooks_plugin)])
    try:
        with hub.engine.connect() as conn:
            def rows(model: Any, order: str) -> list[dict[str, Any]]:
                table = model.__table__
                found = conn.execute(sa.select(table).order_by(table.c[order]))
                return [dict(r) for r in found.mappings()]

            kept = rows(QboLink, "external_id")
            assert [(r["kind"], r["external_id"]) for r in kept] == [
                ("customer", "c-1"), ("invoice", "inv-1"), ("payment", "inv-1@0.00"),
                ("invoice", "inv-2")]
            assert {r["external_id"]: (r["digest"], r["voided_at"]) for r in kept} == {
                "c-1": ("a" * 64, None), "inv-1": ("b" * 64, None),
                "inv-1@0.00": (None, None), "inv-2": (None, now)}
            assert kept[0]["sync_token"] == "2" and kept[1]["sync_token"] == "0"
            assert rows(QboExchangeRate, "currency") == [
                {"currency": "EUR", "day": date(2026, 3, 28), "rate": "1.0825",
                 "fetched_at": now}]
            assert rows(QboItem, "name") == [
                {"name": "deep tissue", "qbo_id": "3", "fallback_since": now, "updated_at": now},
                {"name": "hot stones", "qbo_id": "3", "fallback_since": now - timedelta(days=3),
                 "updated_at": now - timedelta(days=3)},
                {"name": "massage", "qbo_id": "7", "fallback_since": None, "updated_at": now}]
            assert rows(QboTaxCode, "percent") == [
                {"percent": "0", "asked": "exempt", "code_id": "11", "code_name": "Exempt",
                 "rate_id": None, "chosen_at": now},
                {"percent": "20", "asked": "", "code_id": "5", "code_name": "20.0% S",
                 "rate_id": "9", "chosen_at": now}]

        # ... and the plugin reads them from there, without a call to QuickBooks (no api).
        ctx = qbo_ctx(hub)
        no_api: Any = None
        assert links.get(ctx, "invoice", "inv-2")["voided_at"] == now  # type: ignore[index]
        assert quickbooks_plugin.describe_invoice("inv-2", ctx) == {
            "quickbooks_id": "131", "quickbooks_void": True}
        assert quickbooks_plugin.describe_invoice("inv-1", ctx) == {
            "quickbooks_id": "130", "quickbooks_void": False}
        assert currencies.rate(ctx, no_api, "EUR", date(2026, 3, 28)) == Decimal("1.0825")
        assert items._cached(ctx, "Massage") == {"value": "7", "name": "Massage"}
        assert items._cached(ctx, "Deep Tissue") == {"value": "3", "name": "Services"}
        assert items._cached(ctx, "Hot Stones") is None  # a day gone: looked up again
        code = taxes.TaxCodes(ctx, no_api).for_rate(Decimal("20.0"))
        assert code == taxes.TaxCode("5", "20.0% S", Decimal("20"), "9")
    finally:
        hub.close()


def test_a_downgrade_puts_them_back(tmp_path: Path, database_url: str) -> None:
    config = load_config({**base_env(tmp_path), "HUB_DATABASE_URL": database_url},
                         dotenv=False)
    hub = Hub(config, entrypoints=False, migrate_db=False,
              plugins=[("quickbooks", quickbooks_plugin)])
    try:
        at_0008(hub.engine)
        now = utcnow().replace(microsecond=0)
        columns = ("kind", "external_id", "qbo_id", "digest", "origin", "updated_at")

        def as_before() -> set[tuple[Any, ...]]:
            with hub.engine.connect() as conn:
                return {tuple(r) for r in conn.execute(sa.select(*(LINK.c[c] for c in columns)))}

        with hub.engine.begin() as conn:
            conn.execute(sa.insert(LINK), old_rows(now))
        wanted = as_before()
        upgrade(hub.engine, "alembic_version_quickbooks", VERSIONS, "heads")
        upgrade(hub.engine, "alembic_version_quickbooks", VERSIONS, "qbo_0008",
                command.downgrade)
        assert as_before() == wanted
    finally:
        hub.close()


def test_an_item_quickbooks_lacks_goes_on_the_default_item_for_a_day(connected: Hub) -> None:
    ctx = qbo_ctx(connected)

    def kept() -> dict[str, Any]:
        with connected.engine.connect() as conn:
            found = conn.execute(sa.select(QboItem.__table__).where(
                QboItem.__table__.c.name == "hot stones")).mappings().one()
        return dict(found)

    with calling(ctx) as api:
        default = items.item_ref(ctx, api, "Hot Stones")
        assert default["name"] == "Services" and kept()["fallback_since"] is not None
        made = api.create("Item", {"Name": "Hot Stones", "Type": "Service",
                                   "IncomeAccountRef": items.income_account(api, Settings())},
                          "the-operator-adds-it")
        assert items.item_ref(ctx, api, "Hot Stones") == default  # remembered, no lookup
    with freeze_time(utcnow() + items.FALLBACK_FOR + timedelta(minutes=1)):
        with calling(ctx) as api:
            assert items.item_ref(ctx, api, "Hot Stones") == {
                "value": str(made["Id"]), "name": "Hot Stones"}
    assert kept()["qbo_id"] == str(made["Id"]) and kept()["fallback_since"] is None
