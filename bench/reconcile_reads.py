"""Reconcile's metered reads for a company of 1,000 invoices (100 customers), against the
bundled emulator over real sockets.

    .venv/bin/python bench/reconcile_reads.py [--invoices 1000] [--customers 100] [--paid 500]

The host states every invoice through the events API; QuickBooks holds each, linked, as the
hub would have written it, the first ``--paid`` of them paid in full through the hub (a Payment
applied to each, linked as the hub links its payments). They are put into the emulator's books
directly, so the bench takes seconds instead of the minutes Intuit's 500 requests a minute
would take to write them. Reconcile then runs as ``hub quickbooks reconcile`` runs it, and what
reached QuickBooks is counted where it arrives: the emulator's calls and its meter of reads
(each query in a batch is a read, as the hub counts them). A few invoices are then changed
by hand and reconcile run again.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

from hub.builtin import quickbooks as quickbooks_plugin  # noqa: E402
from hub.builtin.quickbooks import connect, links, reconcile  # noqa: E402
from hub.builtin.quickbooks.emulator import operations  # noqa: E402
from hub.builtin.quickbooks.emulator.context import Ctx  # noqa: E402
from hub.builtin.quickbooks.emulator.testing import Emulator, start_emulator  # noqa: E402
from hub.config import load_config  # noqa: E402
from hub.hub import Hub  # noqa: E402
from hub.queue.worker import run_due  # noqa: E402
from hub.web.app import create_app  # noqa: E402
from tests.samples import event  # noqa: E402


def in_books(emulator: Emulator, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    """An object written straight into the emulator's books, as an API create would."""
    st = emulator.state
    with st.store.lock:
        company = st.store.company(emulator.realm_id)
        assert company is not None
        saved = operations.write(Ctx(company), entity, "create", body)
    return dict(next(iter(saved.values())))


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--paid", type=int, default=500,
                        help="how many of the invoices the hub recorded a payment for")
    args = parser.parse_args()
    emulator = start_emulator()
    work = Path(tempfile.mkdtemp(prefix="hub-reconcile-bench-"))
    env = {"HUB_DATABASE_URL": f"sqlite:///{work}/hub.db", "HUB_API_KEY": "k",
           "HUB_SECRET_KEY": "bench", "QBO_CLIENT_ID": emulator.client_id,
           "QBO_CLIENT_SECRET": emulator.client_secret, "QBO_API_BASE": emulator.api_base,
           "QBO_DISCOVERY_URL": emulator.discovery_url}
    hub = Hub(load_config(env, dotenv=False), entrypoints=False,
              plugins=[("quickbooks", quickbooks_plugin)])
    grant = emulator.connect()
    ctx = hub.context("quickbooks", "bench", "-")
    connect.with_refresh_token(ctx, grant["realmId"], grant["refresh_token"])
    run_due(hub)
    api = create_app(hub).test_client()
    customers = []
    for c in range(args.customers):
        made = in_books(emulator, "Customer", {
            "DisplayName": f"Bench Client {c}",
            "PrimaryEmailAddr": {"Address": f"client{c}@example.com"}})
        links.put(ctx, "customer", f"bc-{c}", str(made["Id"]), sync_token=made["SyncToken"],
                  digest=None)
        customers.append(made)
    qbo_ids = []
    for n in range(args.invoices):
        c = n % args.customers
        data = {"external_id": f"binv-{n}", "number": f"B{n}", "issue_date": "2026-03-02",
                "contact": {"external_id": f"bc-{c}", "name": f"Bench Client {c}",
                            "email": f"client{c}@example.com"},
                "lines": [{"item": "Services", "description": "Tutoring",
                           "unit_price": "100.00"}]}
        paid = n < args.paid
        if paid:
            data.update(status="paid", amount_paid="100.00")
        # Stated by the host, not delivered: QuickBooks already holds it (below).
        kind = "invoice.paid" if paid else "invoice.sent"
        answer = api.post("/api/v1/events", json={**event(kind, f"bevt_{n}"), "data": data},
                          headers={"Authorization": "Bearer k"})
        assert answer.status_code == 202, answer.get_json()
        made = in_books(emulator, "Invoice", {
            "CustomerRef": {"value": customers[c]["Id"]}, "TxnDate": "2026-03-02",
            "DocNumber": f"B{n}", "PrivateNote": links.marker(f"binv-{n}"),
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 100,
                      "Description": "Tutoring",
                      "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1,
                                              "UnitPrice": 100}}]})
        links.put(ctx, "invoice", f"binv-{n}", str(made["Id"]), sync_token=made["SyncToken"],
                  digest=None, balance="0.00" if paid else "100.00")
        qbo_ids.append(str(made["Id"]))
        if paid:
            payment = in_books(emulator, "Payment", {
                "CustomerRef": {"value": customers[c]["Id"]}, "TotalAmt": 100,
                "TxnDate": "2026-03-03", "Line": [{"Amount": 100, "LinkedTxn": [
                    {"TxnId": str(made["Id"]), "TxnType": "Invoice"}]}]})
            links.put(ctx, "payment", f"binv-{n}@0.00", str(payment["Id"]),
                      sync_token=payment["SyncToken"], digest=None)

    def measured(title: str) -> None:
        emulator.reset_calls()
        before = int(emulator.reads()["used"] or 0)
        start = time.perf_counter()
        report = reconcile.run(ctx)
        elapsed = time.perf_counter() - start
        used = int(emulator.reads()["used"] or 0) - before
        kinds = Counter(f.kind for f in report.findings)
        print(f"{title}: {report.checked['invoices']} invoices and {report.checked['contacts']} "
              f"contacts checked in {elapsed:.1f} s; metered reads {report.reads} (the "
              f"emulator's meter: {used}) in {report.calls} calls {emulator.calls()}; "
              f"findings: {dict(kinds) or 'none'}")

    measured("books in step")
    emulator.delete("Invoice", qbo_ids[-1])
    emulator.edit_invoice(qbo_ids[-2], TxnDate="2026-03-09")
    emulator.void("Invoice", qbo_ids[-3])
    emulator.record_payment(qbo_ids[-4], 40)
    emulator.hand_edit("Customer", customers[4]["Id"], Active=False)
    measured("after 5 changes by hand")
    hub.close()
    emulator.stop()


if __name__ == "__main__":
    main()
