"""QuickBooks calls per event, and how fast a backlog for one company drains against the
emulator's real limits (500 requests a minute, 10 at once; the hub also keeps to Intuit's 10 a
second, which the emulator does not check).

    .venv/bin/python bench/qbo_calls.py [--backlog 600] [--postgres --processes 2 --threads 4]

Calls per event are counted where the hub makes them (its HTTP session); the backlog's calls
where they arrive (the emulator, which says which it answered with 429), against the bundled
emulator over real sockets. The backlog is invoices to known customers, drained by the hub's own
workers: threads in this process, or ``--processes`` ``hub worker`` processes sharing a
throwaway PostgreSQL (``--postgres``; ``HUB_TEST_POSTGRES_URL`` names your own server). A full
10,000-event run takes over 20 minutes at Intuit's limit (``--backlog 10000``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

from hub.builtin import quickbooks as quickbooks_plugin  # noqa: E402
from hub.builtin.quickbooks import client, connect, limits  # noqa: E402
from hub.builtin.quickbooks.emulator import throttle  # noqa: E402
from hub.builtin.quickbooks.emulator.testing import start_emulator  # noqa: E402
from hub.config import load_config  # noqa: E402
from hub.hub import Hub  # noqa: E402
from hub.queue.worker import Worker, run_due  # noqa: E402
from hub.web.app import create_app  # noqa: E402
from tests import postgres  # noqa: E402
from tests.samples import DATA, event  # noqa: E402

calls: Counter[str] = Counter()
_sent = requests.Session.request


def counted(self: Any, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
    """Count what really goes out to QuickBooks (the hub's own limiter refuses some first)."""
    answer = _sent(self, method, url, *args, **kwargs)
    if isinstance(self, client.TokenSession):
        calls[str(method)] += 1
    return answer


requests.Session.request = counted  # type: ignore[method-assign]
arrived: Counter[str] = Counter()
_admit = throttle.Throttle.acquire


def admitted(self: throttle.Throttle, realm: str, batch: bool = False) -> bool:
    """Count what reaches QuickBooks from any process, and what it answers with 429."""
    ok = _admit(self, realm, batch)
    arrived["calls"] += 1
    arrived["429"] += not ok
    return ok


throttle.Throttle.acquire = admitted  # type: ignore[method-assign]


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
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--backlog", type=int, default=600)
    parser.add_argument("--threads", type=int, default=10, help="worker threads a process")
    parser.add_argument("--processes", type=int, default=0,
                        help="drain with this many `hub worker` processes (0: threads here)")
    parser.add_argument("--postgres", action="store_true",
                        help="a throwaway PostgreSQL instead of SQLite (several processes)")
    args = parser.parse_args()
    with ExitStack() as stack:
        database = (postgres.new_database(stack.enter_context(postgres.cluster()))
                    if args.postgres else None)
        run(args, database)


def run(args: argparse.Namespace, database: str | None) -> None:
    emulator = start_emulator()
    work = Path(tempfile.mkdtemp(prefix="hub-qbo-bench-"))
    env = {"HUB_DATABASE_URL": database or f"sqlite:///{work}/hub.db", "HUB_API_KEY": "k",
           "HUB_SECRET_KEY": "bench", "QBO_CLIENT_ID": emulator.client_id,
           "QBO_CLIENT_SECRET": emulator.client_secret, "QBO_API_BASE": emulator.api_base,
           "QBO_DISCOVERY_URL": emulator.discovery_url,
           "HUB_WORKER_THREADS": str(args.threads)}
    hub = Hub(load_config(env, dotenv=False), entrypoints=False,
              plugins=[("quickbooks", quickbooks_plugin)])
    grant = emulator.connect()
    ctx = hub.context("quickbooks", "bench", "-")
    connect.with_refresh_token(ctx, grant["realmId"], grant["refresh_token"])
    run_due(hub)  # the first import, which connecting queues: not any event's calls
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

    # The backlog: accepted first, then drained by the hub's own workers.
    customers = [f"c-{i}" for i in range(20)]
    for c in customers:
        one(invoice(10_000 + customers.index(c), c))  # make the customers known
    for n in range(args.backlog):
        body = invoice(100_000 + n, customers[n % len(customers)])
        assert api.post("/api/v1/events", json=body, headers=auth).status_code == 202
    arrived.clear()
    start = time.perf_counter()
    if args.processes:
        child = {**os.environ, **env, "PYTHONPATH": str(ROOT)}  # plugins: entry points
        workers = [subprocess.Popen([sys.executable, "-m", "hub", "worker"], env=child,
                                    stderr=subprocess.DEVNULL) for _ in range(args.processes)]
        who = f"{args.processes} `hub worker` processes of {args.threads} threads"
    else:
        worker = Worker(hub, threads=args.threads)
        worker.start()
        who = f"{args.threads} worker threads"
    deadline = start + args.backlog / 400 * 60 + 120
    while delivered(hub) < args.backlog and time.perf_counter() < deadline:
        time.sleep(0.5)  # other threads' or processes' progress, read from the database
    elapsed = time.perf_counter() - start
    if args.processes:
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(30)
    else:
        worker.stop()
    made = arrived["calls"]
    limit_rate = 500 / 60
    drained = delivered(hub)
    print(f"backlog of {args.backlog} invoices to known customers, {who} on "
          f"{hub.engine.dialect.name}: {drained} delivered in {elapsed:.1f} s with {made} "
          f"calls: {made / elapsed * 60:.0f} calls/min, {made / elapsed / limit_rate:.0%} of "
          f"Intuit's 500/min; 429 answers: {arrived['429']}")
    if not args.processes:
        turns = limits.company(grant["realmId"], ctx)
        print(f"  the hub's limiter: {turns.put_back} deliveries put back for a later turn "
              f"(no attempt spent), worker threads slept {turns.slept:.0f} s in all for "
              f"turns under {limits.MAX_WAIT:.0f} s away")
    if args.backlog <= 500:
        print("  (a backlog under 500 calls fits in one minute's allowance: use --backlog 700+ "
              "to see the limit hold)")
    hub.close()
    emulator.stop()


if __name__ == "__main__":
    main()
