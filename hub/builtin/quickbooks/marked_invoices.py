"""The hub's own invoices found in QuickBooks by the marker in their ``PrivateNote``.

Asked when an answer cannot be trusted to say "not created": QuickBooks answered a request it
had seen before (the same ``requestid``, resent after a lost answer) with a fault. Intuit
documents that a repeated ``requestid`` is answered as the first time, but one report (2016,
batch) saw a generic fault 6000 instead; taking that fault as a refusal would bill the client
again. Also asked before creating an invoice that an earlier attempt may have created (how
long Intuit remembers a ``requestid`` is not documented). We look for it by the customer and,
when known, the date, which Intuit's query language can filter on (``CustomerRef``,
``TxnDate``), then by the marker, which it cannot (``PrivateNote`` is not filterable), here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hub.builtin.quickbooks import links, paging
from hub.builtin.quickbooks.api import Api, quote

# ReferenceType takes IN; one IN per query keeps the query short (a batch has at most 30).
MAX_IN = 30


@dataclass(frozen=True)
class Wanted:
    """An invoice the hub may have created: its host id and what its body said."""

    external_id: str
    customer_id: str
    txn_date: str  # empty: any date (the host may have changed it since)


def wanted(external_id: str, body: dict[str, Any]) -> Wanted:
    """What to look for, from the body that was sent for ``external_id``."""
    return Wanted(external_id, str((body.get("CustomerRef") or {}).get("value", "")),
                  str(body.get("TxnDate", "")))


def names(note: str | None, external_id: str) -> bool:
    """Whether ``note`` carries the marker of ``external_id`` as ``invoices.body`` writes it
    (the marker, then the notes after a space). Compared whole rather than through
    ``links.marked``, which stops at the first space, so an id with a space matches too."""
    mark = links.marker(external_id)
    return bool(note) and (note == mark or str(note).startswith(mark + " "))


def find(api: Api, invoices: Iterable[Wanted]) -> dict[str, dict[str, Any]]:
    """Each wanted invoice that QuickBooks holds, as it reads it, by external id (the oldest,
    should there be two). Raises what any call raises: unknown is not "absent"."""
    by_date: dict[str, list[Wanted]] = defaultdict(list)
    for one in invoices:
        if one.customer_id:
            by_date[one.txn_date].append(one)
    found: dict[str, dict[str, Any]] = {}
    for txn_date, group in by_date.items():
        for start in range(0, len(group), MAX_IN):
            chunk = group[start:start + MAX_IN]
            customers = ", ".join(quote(c) for c in sorted({w.customer_id for w in chunk}))
            where = f"CustomerRef IN ({customers})" + (
                f" AND TxnDate = {quote(txn_date)}" if txn_date else "")
            for held in paging.every(api, "Invoice", where):
                customer = str((held.get("CustomerRef") or {}).get("value"))
                for one in chunk:
                    if (one.external_id not in found and customer == one.customer_id
                            and names(held.get("PrivateNote"), one.external_id)):
                        found[one.external_id] = held
    return found
