"""Sales tax codes of a QuickBooks company outside the US, for the host's tax rates.

Outside the US every item line names a TaxCode and QuickBooks works the tax out from the code's
sales rate (Intuit's global tax model). A host rate goes on an active code with exactly one
sales rate of that percent: the one the ``tax_codes`` setting names for it, else the one with
the lowest Id, and then the delivery says which others there were. Lines of an invoice without
tax go on a 0 % code: QuickBooks refuses a line without a code when the company charges tax.

The code chosen for each rate is remembered for a day (``qbo_tax_code``),
and QuickBooks' TaxCode and TaxRate lists are read again whenever a rate is not among them, so a
rate the operator adds in QuickBooks is found when the parked delivery is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from hub import Context
from hub.builtin.quickbooks.api import Api
from hub.builtin.quickbooks.models import QboTaxCode
from hub.builtin.quickbooks.settings import Settings, tax_code_entry
from hub.clock import utcnow
from hub.errors import NeedsOperator
from hub.events import CENT

TABLE = QboTaxCode.__table__  # type: ignore[attr-defined]
FRESH_FOR = timedelta(days=1)
WHERE = "Taxes → Sales tax"  # where QuickBooks Online keeps its tax rates and codes


@dataclass(frozen=True)
class TaxCode:
    id: str
    name: str
    rate: Decimal
    rate_id: str | None  # its one sales TaxRate (None: a 0 % code named in the settings)


def percent(rate: Decimal) -> str:
    """A rate as people write it: 20, 7.5, 0."""
    return format(rate.normalize(), "f")


def tax_at(taxable: Decimal, rate: Decimal) -> Decimal:
    """What QuickBooks charges at ``rate`` on ``taxable``, to the cent."""
    return (taxable * rate / 100).quantize(CENT, ROUND_HALF_UP)


def missing(rate: Decimal) -> str:
    p = percent(rate)
    if rate == 0:
        return (f"QuickBooks needs a tax code on every line, and this company has no sales tax "
                f"code at 0 %: create a 0 % rate (zero-rated or exempt) in QuickBooks ({WHERE}), "
                f"or name one with the quickbooks.tax_codes setting (e.g. 0=Exempt), then retry")
    return (f"no active QuickBooks sales tax code charges {p} %: create a {p} % sales tax rate "
            f"in QuickBooks ({WHERE}), or name a code with the quickbooks.tax_codes setting "
            f"({p}=CODE NAME), then retry")


def _order(code_id: str) -> tuple[int, str]:
    return (int(code_id), "") if code_id.isdigit() else (10**12, code_id)


def _sales_rates(code: dict[str, Any]) -> list[dict[str, Any]]:
    return list((code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or [])


def _rate_of(code: dict[str, Any], rates: dict[str, dict[str, Any]]) -> tuple[str, Decimal] | None:
    """A code's one active sales rate: (its Id, its percent); None for any other code."""
    details = _sales_rates(code)
    if len(details) != 1:
        return None
    rate = rates.get(str((details[0].get("TaxRateRef") or {}).get("value", "")))
    if rate is None or rate.get("Active") is False:
        return None
    try:
        return str(rate["Id"]), Decimal(str(rate.get("RateValue")))
    except (InvalidOperation, KeyError):
        return None


class TaxCodes:
    """The tax codes one delivery needs: QuickBooks is asked only on a miss, once at most."""

    def __init__(self, ctx: Context, api: Api) -> None:
        self.ctx = ctx
        self.api = api
        self._read_now: dict[Decimal, TaxCode] | None = None
        self._problems: dict[Decimal, str] = {}
        self._others: dict[Decimal, list[str]] = {}

    def for_rate(self, rate: Decimal) -> TaxCode:
        found = self._remembered().get(rate)
        if found is None:
            found = self._read().get(rate)
            if found is None:
                raise NeedsOperator(self._problems.get(rate) or missing(rate))
            if self._others.get(rate):
                self.ctx.note(
                    f"QuickBooks has several sales tax codes at {percent(rate)} %: "
                    f"{found.name} is used, not {', '.join(self._others[rate])}; to choose, set "
                    f"quickbooks.tax_codes to {percent(rate)}=CODE NAME")
        return found

    def for_amount(self, amount: Decimal, taxable: Decimal, lines: int) -> TaxCode:
        """The code for a tax the host gives as an amount: one whose rate comes to that amount
        on ``taxable``, else the nearest within the cents that rounding line by line can make
        (the amount then overrides QuickBooks' own figure)."""
        if amount == 0:
            return self.for_rate(Decimal(0))
        if taxable <= 0:
            raise NeedsOperator(f"the invoice has a tax of {amount} but nothing taxable after the "
                                "discount: send it without tax, or correct the discount")
        fits = [c for c in self._remembered().values() if tax_at(taxable, c.rate) == amount]
        if not fits:
            slack = CENT * max(1, lines)
            fits = [c for c in self._read().values()
                    if c.rate > 0 and abs(tax_at(taxable, c.rate) - amount) <= slack]
        effective = amount * 100 / taxable
        if not fits:
            p = percent(effective.quantize(Decimal("0.001"), ROUND_HALF_UP))
            raise NeedsOperator(
                f"the tax of {amount} on {taxable} is {p} %, and no QuickBooks sales tax code "
                f"comes to that amount: send the tax as rate_percent, or create a {p} % sales tax "
                f"rate in QuickBooks ({WHERE}), then retry")
        return min(fits, key=lambda c: (abs(tax_at(taxable, c.rate) - amount),
                                        abs(c.rate - effective), _order(c.id)))

    # -- what is remembered, and reading QuickBooks -----------------------------------------

    def _names(self) -> dict[Decimal, str]:
        settings = self.ctx.settings
        entries = settings.tax_codes if isinstance(settings, Settings) else []
        return dict(tax_code_entry(entry) for entry in entries)

    def _asked(self, rate: Decimal, names: dict[Decimal, str]) -> str:
        """What the tax_codes setting names for ``rate`` (casefolded), "" when nothing."""
        return (names.get(rate) or "").casefold()[:100]

    def _remembered(self) -> dict[Decimal, TaxCode]:
        if self._read_now is not None:
            return self._read_now
        names = self._names()
        oldest = utcnow() - FRESH_FOR
        with self.ctx.reading() as conn:
            rows = conn.execute(select(TABLE).where(
                TABLE.c.chosen_at >= oldest)).mappings().all()
        found: dict[Decimal, TaxCode] = {}
        for row in rows:
            try:
                rate = Decimal(row["percent"])
            except InvalidOperation:
                continue
            if row["asked"] != self._asked(rate, names):
                continue  # chosen under another tax_codes setting
            found[rate] = TaxCode(row["code_id"], row["code_name"], rate, row["rate_id"])
        return found

    def _read(self) -> dict[Decimal, TaxCode]:
        if self._read_now is not None:
            return self._read_now
        codes = [c for c in self.api.query("TaxCode", "", "MAXRESULTS 1000")
                 if c.get("Active") is not False]
        rates = {str(r.get("Id")): r for r in self.api.query("TaxRate", "", "MAXRESULTS 1000")}
        usable: dict[Decimal, list[TaxCode]] = {}
        for code in codes:
            one = _rate_of(code, rates)
            if one:
                usable.setdefault(one[1], []).append(
                    TaxCode(str(code["Id"]), str(code.get("Name", "")), one[1], one[0]))
        names = self._names()
        chosen: dict[Decimal, TaxCode] = {}
        by_name = {str(c.get("Name", "")).strip().casefold(): c for c in codes}
        for rate, wanted in names.items():
            named = by_name.get(wanted.casefold())
            one = _rate_of(named, rates) if named else None
            if named is not None and one and one[1] == rate:
                chosen[rate] = TaxCode(str(named["Id"]), str(named["Name"]), rate, one[0])
            elif named is not None and rate == 0 and not _sales_rates(named):
                chosen[rate] = TaxCode(str(named["Id"]), str(named["Name"]), rate, None)
            else:
                why = ("QuickBooks has no active sales tax code of that name" if named is None
                       else "that code does not charge one sales rate of " + percent(rate) + " %")
                self._problems[rate] = (
                    f"the quickbooks.tax_codes setting names {wanted!r} for {percent(rate)} %, "
                    f"but {why}: correct the setting, or the code in QuickBooks ({WHERE}), "
                    "then retry")
        for rate, found in usable.items():
            if rate not in names:
                found.sort(key=lambda c: _order(c.id))
                chosen[rate] = found[0]
                self._others[rate] = [c.name for c in found[1:]]
        if chosen:
            self.ctx.write(lambda conn: _keep(conn, [
                dict(percent=percent(rate), asked=self._asked(rate, names), code_id=kept.id,
                     code_name=kept.name[:100], rate_id=kept.rate_id, chosen_at=utcnow())
                for rate, kept in chosen.items()]))
        self._read_now = chosen
        return chosen


def _keep(conn: Connection, choices: list[dict[str, Any]]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    for choice in choices:
        stmt = dialect.insert(TABLE).values(**choice)
        conn.execute(stmt.on_conflict_do_update(index_elements=["percent", "asked"], set_={
            k: v for k, v in choice.items() if k not in ("percent", "asked")}))
