"""Reconcile's findings: what each names (the host object, what the host says, what
QuickBooks says, the fix), their stable kinds, and how a report is printed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

#: Every kind of finding, as ``--json`` names them under "kind".
KINDS = ("invoice_missing", "invoice_differs", "invoice_voided", "tax_drift", "payment_missing",
         "payment_extra", "payment_unapplied", "customer_inactive", "customer_merged")

#: Fixes that write nothing in QuickBooks and only tell the host: once told, the finding is
#: not shown again until QuickBooks or the host changes the object.
TELLS_HOST = frozenset({"invoice_voided", "payment_extra"})

Progress = Callable[[int, int, str], None]


@dataclass
class Finding:
    kind: str
    subject: str  # invoice:<external_id>, contact:<external_id>, payment:<external_id>
    host_says: str
    quickbooks_says: str
    fix: str  # what the fix does, in plain words
    safe: bool  # writes only what the host says or the hub itself wrote (or tells the host)
    quickbooks_id: str | None
    state: str  # what it rests on (QuickBooks' version, the host's event): part of its id
    accept: str | None = None  # the other way out (invoice_differs: accept QuickBooks')
    detail: dict[str, Any] = field(default_factory=dict)  # what the fix needs
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            self.id = hashlib.sha256("\x1f".join(
                (self.kind, self.subject, self.state)).encode()).hexdigest()[:32]

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("state")
        return out


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    reads: int = 0  # metered reads (queries) made
    calls: int = 0  # batch calls made
    since: date | None = None

    def as_json(self) -> dict[str, Any]:
        return {"since": self.since.isoformat() if self.since else None,
                "checked": self.checked, "reads": self.reads, "calls": self.calls,
                "findings": [f.as_json() for f in self.findings]}


def money(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else "0")).quantize(Decimal("0.01"))


def voided(qbo: dict[str, Any], host_total: Decimal) -> bool:
    """QuickBooks voids by zeroing every amount and noting "Voided" (Intuit prepends it to the
    memo); an invoice of the host's that totals 0 in QuickBooks while the host's does not is
    void too."""
    note = str(qbo.get("PrivateNote") or "")
    return money(qbo.get("TotalAmt")) == 0 and (note.startswith("Voided") or host_total != 0)


def lines(report: Report) -> list[str]:
    """The report as the command prints it."""
    checked = report.checked
    out = [f"checked {_count(checked.get('invoices', 0), 'invoice')}, "
           f"{_count(checked.get('contacts', 0), 'contact')} and "
           f"{_count(checked.get('payments', 0), 'payment')}"
           + (f" the host stated since {report.since}" if report.since else "")
           + f": {_count(report.reads, 'QuickBooks read')} in {_count(report.calls, 'call')}"]
    if not report.findings:
        out.append("QuickBooks agrees with the host: nothing to fix")
    for f in report.findings:
        out += [f"{f.kind}  {f.subject}", f"  host:       {f.host_says}",
                f"  QuickBooks: {f.quickbooks_says}",
                f"  fix:        {f.fix}" + ("" if f.safe else " (not applied by --fix)")]
        if f.accept:
            out.append(f"  or:         {f.accept}")
    return out


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


def dumps(report: Report) -> str:
    return json.dumps(report.as_json(), default=str)
