"""Host line items as QuickBooks items, by name.

An item QuickBooks does not have goes on the ``default_item`` unless the operator asked for
missing items to be created (``create_missing_items``): otherwise every misspelled service
name would leave a junk item behind, a complaint users of other integrations make.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from hub import Context
from hub.builtin.quickbooks.api import Api, quote
from hub.builtin.quickbooks.models import QboItem
from hub.builtin.quickbooks.settings import Settings
from hub.clock import utcnow
from hub.errors import NeedsOperator
from hub.events import Line

TABLE = QboItem.__table__  # type: ignore[attr-defined]

FALLBACK_FOR = timedelta(days=1)


def _cached(ctx: Context, name: str) -> dict[str, str] | None:
    with ctx.reading() as conn:
        known = conn.execute(select(TABLE).where(
            TABLE.c.name == name.casefold())).mappings().first()
    if known is None:
        return None
    # A name QuickBooks lacked is remembered as going on the default item for a day, so an
    # item the operator adds later is found the next day without a lookup on every line.
    since = known["fallback_since"]
    if since is not None and utcnow() - since > FALLBACK_FOR:
        return None
    shown = name if since is None else _default_name(ctx)
    return {"value": str(known["qbo_id"]), "name": shown}


def _keep(ctx: Context, name: str, qbo_id: str, *, fallback: bool) -> None:
    now = utcnow()
    since: datetime | None = now if fallback else None

    def write(conn: Connection) -> None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(TABLE).values(name=name.casefold(), qbo_id=qbo_id,
                                            fallback_since=since, updated_at=now)
        conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={
            "qbo_id": qbo_id, "fallback_since": since, "updated_at": now}))

    ctx.write(write)


def _default_name(ctx: Context) -> str:
    settings = ctx.settings
    assert isinstance(settings, Settings)
    return settings.default_item


def _find(api: Api, name: str) -> dict[str, Any] | None:
    found = api.query("Item", f"Name = {quote(name)}")
    same = [i for i in found if str(i.get("Name", "")).casefold() == name.casefold()]
    return same[0] if same else None


def income_account(api: Api, settings: Settings) -> dict[str, str]:
    if settings.income_account:
        found = api.query("Account", f"Name = {quote(settings.income_account)}")
        if not found:
            raise NeedsOperator(f"the income account {settings.income_account!r} is not in "
                                "QuickBooks: fix the quickbooks.income_account setting")
        return {"value": str(found[0]["Id"]), "name": found[0]["Name"]}
    found = api.query("Account", "AccountType = 'Income'", "ORDERBY Id")
    if not found:
        raise NeedsOperator("QuickBooks has no income account; set quickbooks.income_account")
    preferred = [a for a in found if a.get("Name") in ("Services", "Sales of Product Income")]
    account = (preferred or found)[0]
    return {"value": str(account["Id"]), "name": account["Name"]}


def item_refs(ctx: Context, api: Api, lines: Sequence[Line]) -> dict[str, dict[str, str]]:
    """The ItemRef of each line's item, by item name (each name looked up once)."""
    return {name: item_ref(ctx, api, name) for name in dict.fromkeys(line.item for line in lines)}


def item_ref(ctx: Context, api: Api, name: str) -> dict[str, str]:
    """The ItemRef for a line's item name."""
    settings = ctx.settings
    assert isinstance(settings, Settings)
    cached = _cached(ctx, name)
    if cached:
        return cached
    found = _find(api, name)
    if found is None and settings.create_missing_items:
        found = api.create("Item", {
            "Name": name[:100], "Type": "Service",
            "IncomeAccountRef": income_account(api, settings),
        }, api.request_id("item", name.casefold()))
        ctx.note(f"Item {found['Id']} ({name}) created")
    if found is None:
        if name.casefold() != settings.default_item.casefold():
            fallback = item_ref(ctx, api, settings.default_item)
            _keep(ctx, name, fallback["value"], fallback=True)
            return fallback
        raise NeedsOperator(f"the default item {settings.default_item!r} is not in "
                            "QuickBooks: create it there, or set quickbooks.default_item to "
                            "an item that exists")
    _keep(ctx, name, str(found["Id"]), fallback=False)
    return {"value": str(found["Id"]), "name": str(found.get("Name", name))}
