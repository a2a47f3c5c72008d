"""QuickBooks customers and invoices as the host's values, and the local mirror of balances.

Lines of an invoice read from QuickBooks are given to the host as one line each at their exact
amount (quantity and unit price go into the description): QuickBooks may hold unit prices to
seven places, the host's contract to two, and the total must come out to the cent.

Balances and receivables are sums in the company's home currency: in a multicurrency company
an invoice in euros counts at QuickBooks' own HomeBalance and HomeTotalAmt, never as dollars.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import Connection, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from hub.builtin.quickbooks.models import QboCustomerMirror, QboInvoiceMirror
from hub.clock import utcnow
from hub.events import Contact, Invoice
from hub.reports import ClientBalance, MonthFigures, Receivables

if TYPE_CHECKING:
    from hub import Context

CUSTOMERS = QboCustomerMirror.__table__  # type: ignore[attr-defined]
INVOICES = QboInvoiceMirror.__table__  # type: ignore[attr-defined]


def _email(customer: dict[str, Any]) -> str | None:
    address = (customer.get("PrimaryEmailAddr") or {}).get("Address")
    return address.strip() if isinstance(address, str) and address.strip() else None


def contact_from(customer: dict[str, Any], external_id: str) -> Contact:
    address = customer.get("BillAddr") or {}
    values: dict[str, Any] = {
        "external_id": external_id,
        "name": customer.get("DisplayName") or f"Customer {customer['Id']}",
        "email": _email(customer),
        "phone": ((customer.get("PrimaryPhone") or {}).get("FreeFormNumber") or "")[:30] or None,
        "company": customer.get("CompanyName") or None,
        "address": {k: v for k, v in {
            "line1": address.get("Line1"), "line2": address.get("Line2"),
            "city": address.get("City"), "region": address.get("CountrySubDivisionCode"),
            "postal_code": address.get("PostalCode"), "country": address.get("Country"),
        }.items() if v} or None,
    }
    try:
        return Contact.model_validate(values)
    except ValidationError:
        # An address QuickBooks accepted but the contract would not (a malformed email):
        # the contact still arrives, without that field.
        return Contact.model_validate({**values, "email": None, "phone": None})


def is_void(qbo: dict[str, Any]) -> bool:
    """QuickBooks voids by zeroing every amount; an invoice that had lines and totals 0 is
    void."""
    return Decimal(str(qbo.get("TotalAmt", "0"))) == 0 and bool(qbo.get("Line"))


def invoice_from(qbo: dict[str, Any], external_id: str, contact: Contact) -> Invoice:
    total = Decimal(str(qbo.get("TotalAmt", "0")))
    balance = Decimal(str(qbo.get("Balance", "0")))
    lines = []
    discount = None
    for line in qbo.get("Line") or []:
        kind = line.get("DetailType")
        amount = Decimal(str(line.get("Amount", "0")))
        if kind == "SalesItemLineDetail":
            detail = line.get("SalesItemLineDetail") or {}
            described = line.get("Description") or ""
            qty = detail.get("Qty")
            if qty not in (None, 0, 1, "1"):
                described = (f"{described} ({qty} × {detail.get('UnitPrice')})").strip()
            lines.append({"item": ((detail.get("ItemRef") or {}).get("name") or "Item")[:100],
                          "description": described or None, "unit_price": f"{amount:.2f}",
                          "service_date": detail.get("ServiceDate")})
        elif kind == "DiscountLineDetail" and amount:
            discount = {"amount": f"{amount:.2f}"}
    tax = Decimal(str((qbo.get("TxnTaxDetail") or {}).get("TotalTax", "0")))
    if not lines:
        lines = [{"item": "Total", "unit_price": f"{total:.2f}"}]
    voided = is_void(qbo)
    status = ("void" if voided else "paid" if balance == 0 and total > 0
              else "partially_paid" if balance < total else "sent")
    return Invoice.model_validate({
        "external_id": external_id, "number": (qbo.get("DocNumber") or None),
        "contact": contact.model_dump(mode="json", exclude_none=True), "status": status,
        "issue_date": qbo.get("TxnDate") or date.today().isoformat(),
        "due_date": qbo.get("DueDate"), "currency": (qbo.get("CurrencyRef") or {}).get("value"),
        "billing_email": (qbo.get("BillEmail") or {}).get("Address"), "lines": lines,
        "discount": discount, "tax": {"amount": f"{tax:.2f}"} if tax else None,
        "amount_paid": f"{max(total - balance, Decimal(0)):.2f}",
    })


_REMEMBER_FOR = 2.0  # seconds; another process's sweep is seen at most this late
# In the hub's memory of the plugin (ctx.memory), never the module: two hubs in one process
# have two mirrors, and one must not answer from the other's.
_REMEMBERED_BALANCES = "remembered balances"
_CONNECTION = "remembered connection"
_LOCK = "remembered lock"


def _remember(ctx: Context, space: str, key: str, compute: Callable[[], Any]) -> Any:
    memory = ctx.memory
    lock = memory.setdefault(_LOCK, threading.Lock())
    with lock:
        found = memory.setdefault(space, {}).get(key)
    if found and time.monotonic() - found[0] < _REMEMBER_FOR:
        return found[1]
    answer = compute()
    with lock:
        store = memory.setdefault(space, {})
        if len(store) > 10_000:
            store.clear()
        store[key] = (time.monotonic(), answer)
    return answer


def remembered(ctx: Context, email: str, compute: Callable[[], Any]) -> Any:
    """``compute()``'s answer for this email, from memory if asked a moment ago."""
    return _remember(ctx, _REMEMBERED_BALANCES, email.strip().lower(), compute)


def remembered_connection(ctx: Context, compute: Callable[[], Any]) -> Any:
    """``compute()``'s answer about the connection, from memory if asked a moment ago."""
    return _remember(ctx, _CONNECTION, "", compute)


def forget(ctx: Context) -> None:
    memory = ctx.memory
    with memory.setdefault(_LOCK, threading.Lock()):
        memory.pop(_REMEMBERED_BALANCES, None)
        memory.pop(_CONNECTION, None)


def _upsert(conn: Connection, table: Any, key: str, values: dict[str, Any]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**values)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[key], set_={k: v for k, v in values.items() if k != key}))


def _customer_balance(customer: dict[str, Any], home: str | None) -> str | None:
    """QuickBooks' Balance of the customer (open invoices less unapplied payments and
    credits), when it is in the home currency: a multicurrency company's foreign customer
    holds it in hers, and the mirror's sums are in the home currency."""
    if customer.get("Balance") is None:
        return None
    currency = (customer.get("CurrencyRef") or {}).get("value")
    if currency and home and currency != home:
        return None
    return str(customer["Balance"])


def mirror_customers(ctx: Context, customers: list[dict[str, Any]],
                     home: str | None = None) -> None:
    now = utcnow()

    def write(conn: Connection) -> None:
        for c in customers:
            if c.get("status") == "Deleted":
                conn.execute(delete(CUSTOMERS).where(CUSTOMERS.c.qbo_id == str(c["Id"])))
                continue
            email = _email(c)
            _upsert(conn, CUSTOMERS, "qbo_id", dict(
                qbo_id=str(c["Id"]), display_name=str(c.get("DisplayName") or c["Id"]),
                email=email.lower() if email else None, active=bool(c.get("Active", True)),
                balance=_customer_balance(c, home), updated_at=now))

    ctx.write(write)
    forget(ctx)


def _home(invoice: dict[str, Any], amount: str, home_field: str) -> str | None:
    """An invoice amount in the home currency: QuickBooks' own figure, or (should an answer
    lack it) the amount at the invoice's exchange rate; None without multicurrency."""
    if invoice.get(home_field) is not None:
        return str(invoice[home_field])
    rate = invoice.get("ExchangeRate")
    if rate is None or invoice.get(amount) is None:
        return None
    home = Decimal(str(invoice[amount])) * Decimal(str(rate))
    return str(home.quantize(Decimal("0.01"), ROUND_HALF_UP))


def mirror_invoices(ctx: Context, invoices: list[dict[str, Any]]) -> None:
    now = utcnow()

    def write(conn: Connection) -> None:
        for i in invoices:
            if i.get("status") == "Deleted":
                conn.execute(delete(INVOICES).where(INVOICES.c.qbo_id == str(i["Id"])))
                continue
            _upsert(conn, INVOICES, "qbo_id", dict(
                qbo_id=str(i["Id"]), customer_id=str((i.get("CustomerRef") or {}).get("value")),
                doc_number=i.get("DocNumber"), total=str(i.get("TotalAmt", "0")),
                balance=str(i.get("Balance", "0")),
                home_total=_home(i, "TotalAmt", "HomeTotalAmt"),
                home_balance=_home(i, "Balance", "HomeBalance"),
                voided=is_void(i),
                txn_date=date.fromisoformat(i["TxnDate"]) if i.get("TxnDate") else None,
                due_date=date.fromisoformat(i["DueDate"]) if i.get("DueDate") else None,
                updated_at=now))

    ctx.write(write)
    forget(ctx)


def customer(ctx: Context, qbo_id: str) -> dict[str, Any] | None:
    with ctx.reading() as conn:
        found = conn.execute(select(CUSTOMERS).where(CUSTOMERS.c.qbo_id == qbo_id)
                             ).mappings().first()
    return dict(found) if found else None


def invoice(ctx: Context, qbo_id: str) -> dict[str, Any] | None:
    """The invoice as the last sweep saw it in QuickBooks; None if never seen."""
    with ctx.reading() as conn:
        found = conn.execute(select(INVOICES).where(INVOICES.c.qbo_id == qbo_id)
                             ).mappings().first()
    return dict(found) if found else None


# In the home currency (what a multicurrency company's foreign invoice is worth in its books).
_HOME_BALANCE = func.coalesce(INVOICES.c.home_balance, INVOICES.c.balance)
_HOME_TOTAL = func.coalesce(INVOICES.c.home_total, INVOICES.c.total)
# Built once: on the booking gate's path, building the statement cost as much as running it.
_BALANCES = (
    select(CUSTOMERS.c.qbo_id, CUSTOMERS.c.balance, _HOME_BALANCE, INVOICES.c.due_date)
    .select_from(CUSTOMERS.outerjoin(INVOICES, INVOICES.c.customer_id == CUSTOMERS.c.qbo_id))
    .where(CUSTOMERS.c.email == bindparam("email")))


def company_today(ctx: Context) -> date:
    """Today where the company is (the plugin's ``timezone``; empty: this machine's zone).

    QuickBooks' due dates are the company's dates: in California an invoice due today is not
    overdue at 4 pm, when the UTC date has already turned."""
    zone = getattr(ctx.settings, "timezone", "")
    now = utcnow().replace(tzinfo=UTC)
    return (now.astimezone(ZoneInfo(zone)) if zone else now.astimezone()).date()


def _owing(balance: Decimal | None, invoices: list[tuple[Decimal, date | None]],
           today: date) -> tuple[Decimal, Decimal, int]:
    """One customer's (outstanding, overdue, overdue invoices), from its QuickBooks Balance
    (None: not held, its open invoices count) and its open invoices' (balance, due date): the
    credit, what the open invoices come to beyond the Balance, pays the earliest due first."""
    open_total = sum((b for b, _due in invoices), Decimal("0"))
    credit = Decimal("0") if balance is None else max(Decimal("0"), open_total - balance)
    overdue, late = Decimal("0"), 0
    for _due, left in sorted((due, b) for b, due in invoices if due and due < today):
        taken = min(credit, left)
        credit -= taken
        if left > taken:
            overdue += left - taken
            late += 1
    return (open_total if balance is None else balance), overdue, late


def balances(ctx: Context, email: str, today: date | None = None) -> dict[str, Any] | None:
    """Outstanding and overdue balance of the customers with this email, in the home currency
    (a contact's customers in other currencies included); None if unknown.

    Outstanding is QuickBooks' own customer Balance where the mirror holds it: open invoice
    balances less unapplied payments and credits (Intuit's rule), so a payment standing as
    credit lowers it; a customer without one (in another currency) counts its open invoices.

    Overdue is what is past due less that same credit, never below zero: QuickBooks applies a
    customer's credit to the oldest invoices, so the credit pays what is overdue first. It is
    never more than outstanding: 85.00 past due with a credit of 30.00 is 55.00 overdue, not
    85.00 beside an outstanding 55.00. The overdue invoices are those the credit, taken to
    the earliest due first, leaves something owing on; the open ones are QuickBooks' open
    invoices, as its aging shows them.

    One indexed join: the booking gate asks this on every check."""
    today = today or company_today(ctx)
    with ctx.reading() as conn:
        rows = conn.execute(_BALANCES, {"email": email.strip().lower()}).all()
    if not rows:
        return None
    held: dict[str, Decimal | None] = {}
    owed: dict[str, list[tuple[Decimal, date | None]]] = {}
    for cid, balance, owing, due in rows:
        held[cid] = None if balance is None else Decimal(balance)
        if owing is not None and Decimal(owing) > 0:
            owed.setdefault(cid, []).append((Decimal(owing), due))
    outstanding = overdue = Decimal("0")
    overdue_invoices = 0
    for cid, balance in held.items():
        owes, late, late_invoices = _owing(balance, owed.get(cid, []), today)
        outstanding += owes
        overdue += late
        overdue_invoices += late_invoices
    return {"customer_ids": sorted(held),
            "outstanding": outstanding,
            # A credit of one customer is not applied to another's invoices (another
            # currency), yet the contact's overdue is still never more than its outstanding.
            "overdue": min(overdue, max(outstanding, Decimal("0"))),
            "overdue_invoices": overdue_invoices,
            "open_invoices": sum(len(invoices) for invoices in owed.values())}


def receivables(ctx: Context, today: date | None = None) -> Receivables:
    """Who owes what, and each month's invoiced, collected and outstanding, from the mirror.

    Months are the invoices' dates; "collected" is what of those invoices has been paid so far
    (QuickBooks' payment dates are not mirrored yet). Amounts are in the home currency. A
    client's outstanding and overdue are ``balances``' (its credit taken off); the months are
    the invoices' own figures."""
    today = today or company_today(ctx)
    with ctx.reading() as conn:
        rows = conn.execute(select(
            INVOICES.c.customer_id, _HOME_TOTAL, _HOME_BALANCE, INVOICES.c.txn_date,
            INVOICES.c.due_date, CUSTOMERS.c.display_name, CUSTOMERS.c.email,
            CUSTOMERS.c.balance,
        ).select_from(INVOICES.outerjoin(
            CUSTOMERS, CUSTOMERS.c.qbo_id == INVOICES.c.customer_id))).all()
    who: dict[str, tuple[str, str | None, Decimal | None]] = {}
    owed: dict[str, list[tuple[Decimal, date | None]]] = {}
    months: dict[str, list[Decimal]] = {}
    for cid, total, balance, txn, due, name, email, held in rows:
        left, billed = Decimal(balance), Decimal(total)
        if txn is not None:
            figures = months.setdefault(txn.strftime("%Y-%m"), [Decimal(0)] * 3)
            figures[0] += billed
            figures[1] += billed - left
            figures[2] += left
        if left > 0:
            who[cid] = (name or f"Customer {cid}", email,
                        None if held is None else Decimal(held))
            owed.setdefault(cid, []).append((left, due))
    clients: list[dict[str, Any]] = []
    for cid, (name, email, held) in who.items():
        # As the API and the booking gate reckon it: the customer's credit taken off.
        outstanding, overdue, late = _owing(held, owed[cid], today)
        if outstanding <= 0:
            continue  # its credit covers what its invoices say is owed
        clients.append({"name": name, "email": email, "outstanding": outstanding,
                        "overdue": overdue,  # never more than one customer's outstanding
                        "open_invoices": len(owed[cid]), "overdue_invoices": late})
    ordered = sorted(clients, key=lambda c: (-c["overdue"], -c["outstanding"]))
    return Receivables(
        source="QuickBooks",
        clients=[ClientBalance(**c) for c in ordered],
        months=[MonthFigures(month=m, invoiced=v[0], collected=v[1], outstanding=v[2])
                for m, v in sorted(months.items(), reverse=True)],
        note="Months are invoice dates; collected is what of those invoices is paid so far.")
