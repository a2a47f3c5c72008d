"""What the Money page shows: who owes what, and each month's invoiced, collected and
outstanding. A plugin that keeps the books' mirror answers ``receivables``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel


class ClientBalance(BaseModel):
    name: str
    email: str | None = None
    outstanding: Decimal
    overdue: Decimal
    open_invoices: int = 0
    overdue_invoices: int = 0


class MonthFigures(BaseModel):
    month: str  # YYYY-MM
    invoiced: Decimal
    collected: Decimal
    outstanding: Decimal


class Receivables(BaseModel):
    source: str
    as_of: datetime | None = None
    clients: list[ClientBalance]
    months: list[MonthFigures]
    note: str = ""
