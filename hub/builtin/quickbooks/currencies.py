"""The currency of what the hub writes to QuickBooks, and the exchange rate it carries.

- A company with multicurrency off keeps every amount in its home currency: anything else is
  refused before any call, with the fix.
- With multicurrency on, every transaction names its currency (Intuit requires ``CurrencyRef``
  then), and one in a foreign currency carries the rate QuickBooks itself holds for its date.
  Intuit documents ``ExchangeRate`` as defaulting to 1 when it is left out, which would book
  100 EUR as 100 USD; so the rate is read from QuickBooks' ExchangeRate entity, once per
  currency and date, and kept (``qbo_exchange_rate``). A retry then sends the very same body
  (and so the same ``requestid``), and the next invoice of that day costs no call for it.
- Rates are exact decimals, written as strings: never a float.
- A home-currency transaction costs nothing more than before: no rate, no call.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from hub.builtin.quickbooks.models import QboExchangeRate
from hub.clock import utcnow
from hub.errors import NeedsOperator

if TYPE_CHECKING:
    from hub import Context
    from hub.builtin.quickbooks.api import Api

TABLE = QboExchangeRate.__table__  # type: ignore[attr-defined]


def home(company: dict[str, Any]) -> str:
    return str(company.get("home_currency") or "USD")


def checked(currency: str | None, company: dict[str, Any]) -> str:
    """The currency a transaction will be in, or why the company cannot take it."""
    books = home(company)
    wanted = currency or books
    if wanted != books and not company.get("multicurrency"):
        raise NeedsOperator(
            f"the invoice is in {wanted} but the QuickBooks company keeps its books in {books} "
            "with multicurrency off: send it in " + books + ", or turn multicurrency on in "
            "QuickBooks (Settings → Account and settings → Advanced → Currency)")
    return wanted


def currency_ref(currency: str | None, company: dict[str, Any]) -> dict[str, str] | None:
    """``CurrencyRef`` for a transaction: sent whenever multicurrency is on, never otherwise."""
    wanted = checked(currency, company)
    return {"value": wanted} if company.get("multicurrency") else None


def fields(ctx: Context, api: Api, currency: str | None, day: date) -> dict[str, Any]:
    """The currency fields of a transaction dated ``day``: none, ``CurrencyRef``, or
    ``CurrencyRef`` and QuickBooks' own ``ExchangeRate`` for a foreign currency."""
    ref = currency_ref(currency, api.company)
    if ref is None:
        return {}
    if ref["value"] == home(api.company):
        return {"CurrencyRef": ref}
    return {"CurrencyRef": ref, "ExchangeRate": str(rate(ctx, api, ref["value"], day))}


def rate(ctx: Context, api: Api, currency: str, day: date) -> Decimal:
    """Home-currency units per unit of ``currency`` on ``day``, as QuickBooks has it."""
    with ctx.reading() as conn:
        known = conn.execute(select(TABLE.c.rate).where(
            TABLE.c.currency == currency, TABLE.c.day == day)).scalar()
    if known is not None:
        return Decimal(known)
    answer = api.qb.make_request(
        "GET", f"{api.qb.api_url}/company/{api.realm_id}/exchangerate",
        params={"sourcecurrencycode": currency, "asofdate": day.isoformat()})
    given = ((answer or {}).get("ExchangeRate") or {}).get("Rate")
    try:
        value = Decimal(str(given))
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite() or value <= 0:
        raise NeedsOperator(
            f"QuickBooks has no {currency} exchange rate for {day.isoformat()}: set one in "
            "QuickBooks (Settings → Currencies), then retry")
    ctx.write(lambda conn: _keep(conn, currency, day, str(value)))
    return value


def _keep(conn: Connection, currency: str, day: date, value: str) -> None:
    """Kept as QuickBooks gave it; two workers reading the same rate at once keep it once."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(TABLE).values(currency=currency, day=day, rate=value,
                                        fetched_at=utcnow())
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["currency", "day"],
        set_={"rate": stmt.excluded.rate, "fetched_at": stmt.excluded.fetched_at}))
