"""A third-party-style balance source for the gate's tests: answers ``customer_balance`` from a
dict the test controls, as a bookkeeping plugin would from its own mirror."""

from __future__ import annotations

from decimal import Decimal

from hub import hookimpl
from hub.events import Balance
from hub.plugins.context import Context


def owing(outstanding: str, overdue: str = "0.00", open_invoices: int = 1,
          overdue_invoices: int = 0, stale: bool = False) -> Balance:
    return Balance(outstanding=Decimal(outstanding), overdue=Decimal(overdue),
                   open_invoices=open_invoices, overdue_invoices=overdue_invoices, stale=stale,
                   source="ledger")


class Ledger:
    def __init__(self) -> None:
        self.balances: dict[str, Balance] = {}
        self.asked: list[str] = []

    @hookimpl
    def customer_balance(self, email: str, ctx: Context) -> Balance | None:
        self.asked.append(email)
        return self.balances.get(email.strip().lower())
