"""QuickBooks calls per event, and how fast a backlog for one company drains against the
emulator's real limits (500 requests a minute, 10 at once; the hub also keeps to Intuit's 10 a
second, which the emulator does not check).

    .venv/bin/python bench/qbo_calls.py [--backlog 600]

Calls are counted where the hub makes them (its HTTP session), against the bundled emulator
over real sockets. The backlog is invoices to known customers, drained by `hub serve`'s own
workers; a full 10,000-event run takes over 20 minutes at Intuit's limit (``--backlog 10000``).
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

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

import plugins.quickbooks  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.config import load_config  # noqa: E402
from hub.hub import Hub  # noqa: E402
from hub.worker import Worker, run_due  # noqa: E402
from plugins.quickbooks import client, connect, limits  # noqa: E402
from plugins.quickbooks.emulator.testing import start_emulator  # noqa: E402
from tests.samples import DATA, event  # noqa: E402

calls: Counter[str] = Counter()
throttled = Counter[str]()
_sent = requests.Session.request


def counted(self: Any, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
    """Count what really goes out to QuickBooks (the hub's own limiter refuses some first)."""
    answer = _sent(self, method, url, *args, **kwargs)
    if isinstance(self, client.TokenSession):
        calls[str(method)] += 1
        if answer.status_code == 429:
            throttled["429"] += 1
    return answer


requests.Session.request = counted  # type: ignore[method-assign]


def delivered(hub: Hub) -> int:
    with hub.engine.connect() as conn:
        return int(conn.exec_driver_sql(
            "SELECT count(*) FROM hub_delivery d JOIN hub_event e ON e.pk = d.event_pk "
            "WHERE d.status = 'done' AND e.key LIKE 'evt_1_____'").scalar() or 0)


def invoice(n: int, customer: str) -> dict[str, Any]:
    data = {**DATA["invoice.sent"], "external_id": f"inv-{n}", "number": None,
            "contact": {"external_id": customer, "name": f"Client {customer}",
                        "email": f"{customer}@example.com"}, "total": None}
    return {**event("invoice.sent", f"evt_{n}"), "data": data}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=600)
    args = parser.parse_args()
    emulator = start_emulator()
    work = Path(tempfile.mkdtemp(prefix="hub-qbo-bench-"))
    env = {"HUB_DATABASE_URL": f"sqlite:///{work}/hub.db", "HUB_API_KEY": "k",
           "HUB_SECRET_KEY": "bench", "QBO_CLIENT_ID": emulator.client_id,
           "QBO_CLIENT_SECRET": emulator.client_secret, "QBO_API_BASE": emulator.api_base,
           "QBO_DISCOVERY_URL": emulator.discovery_url, "HUB_WORKER_THREADS": "10"}
    hub = Hub(load_config(env, dotenv=False), entrypoints=False,
              plugins=[("quickbooks", plugins.quickbooks)])
    grant = emulator.connect()
    connect.with_refresh_token(hub, grant["realmId"], grant["refresh_token"])
    api = create_app(hub).test_client()
    auth = {"Authorization": "Bearer k"}

    def one(body: dict[str, Any]) -> int:
        calls.clear()
        assert api.post("/api/v1/events", json=body, headers=auth).status_code == 202
        run_due(hub)
        return sum(calls.values())

    print("QuickBooks calls per event (bundled emulator, real sockets):")
    print(f"  invoice, new customer, unknown item   {one(invoice(1, 'c-new')):>3}")
    print(f"  invoice, known customer               {one(invoice(2, 'c-new')):>3}")
    paid = invoice(2, "c-new")
    paid["id"], paid["type"] = "evt_paid", "invoice.paid"
    paid["data"] = {**paid["data"], "status": "paid", "amount_paid": "189.98"}
    print(f"  invoice paid (read + payment)         {one(paid):>3}")
    print(f"  same invoice again, unchanged         {one(invoice(2, 'c-new') | {'id': 'e3'}):>3}")

    # The backlog: accepted first, then drained by the hub's own workers (10 threads).
    customers = [f"c-{i}" for i in range(20)]
    for c in customers:
        one(invoice(10_000 + customers.index(c), c))  # make the customers known
    calls.clear()
    for n in range(args.backlog):
        body = invoice(100_000 + n, customers[n % len(customers)])
        assert api.post("/api/v1/events", json=body, headers=auth).status_code == 202
    worker = Worker(hub, threads=10)
    start = time.perf_counter()
    worker.start()
    deadline = start + args.backlog / 400 * 60 + 120
    while delivered(hub) < args.backlog and time.perf_counter() < deadline:
        time.sleep(0.5)  # another thread's progress, read from the database
    elapsed = time.perf_counter() - start
    worker.stop()
    made = sum(calls.values())
    limit_rate = 500 / 60
    drained = delivered(hub)
    print(f"backlog of {args.backlog} invoices to known customers: {drained} delivered in "
          f"{elapsed:.1f} s with {made} calls: {made / elapsed * 60:.0f} calls/min, "
          f"{made / elapsed / limit_rate:.0%} of Intuit's 500/min; 429 answers: "
          f"{throttled['429']}")
    turns = limits.company(grant["realmId"])
    print(f"  the hub's limiter: {turns.put_back} deliveries put back for a later turn "
          f"(no attempt spent), worker threads slept {turns.slept:.0f} s in all for turns "
          f"under {limits.MAX_WAIT:.0f} s away")
    if args.backlog <= 500:
        print("  (a backlog under 500 calls fits in one minute's allowance: use --backlog 700+ "
              "to see the limit hold)")
    hub.close()
    emulator.stop()


if __name__ == "__main__":
    main()
