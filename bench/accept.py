"""How fast the hub accepts events: events/s and p50/p99 accept latency through ``hub serve`` on
SQLite (synchronous=FULL, the default), side by side in the same run with a bare WSGI endpoint
that only inserts the same rows (the stack's ceiling).

    make bench            # or: .venv/bin/python bench/accept.py [--seconds 15] [--clients 16]

The load comes from wrk when it is installed (``apt-get install wrk``: C, so the load generator
does not share our interpreter's lock), else from Python threads.
Each event is an ``invoice.sent`` with two lines, a discount and tax, validated in full; a no-op
plugin takes it (the built-in plugins are disabled), so every event also writes one delivery row
that the hub's workers then run, in the same process, while the load goes on.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import wrk  # noqa: E402
from bench.machine import cpu_ticks, stolen_since  # noqa: E402
from tests.samples import event  # noqa: E402

KEY = "bench-key"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answered on port {port}")


def load(port: int, bodies: list[bytes], clients: int) -> tuple[float, list[float]]:
    """Send every body once from ``clients`` keep-alive connections; (seconds, latencies)."""
    latencies: list[float] = []
    lock = threading.Lock()
    share = [bodies[i::clients] for i in range(clients)]
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}

    def client(mine: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        own = []
        for body in mine:
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/events", body=body, headers=headers)
            answer = conn.getresponse()
            answer.read()
            own.append(time.perf_counter() - t0)
            if answer.status != 202:
                raise SystemExit(f"answer {answer.status}")
        with lock:
            latencies.extend(own)

    threads = [threading.Thread(target=client, args=(m,)) for m in share]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies


WRK_SCRIPT = """
local n = 0
local threads = 0
-- runs in the main state; thread:set gives each thread's own state a global thread_id
setup = function(thread) thread:set("thread_id", threads); threads = threads + 1 end
request = function()
  n = n + 1
  local id = PREFIX .. thread_id .. "-" .. n
  return wrk.format("POST", "/api/v1/events", HEADERS, string.format(TEMPLATE, id, id))
end
"""


def load_wrk(port: int, seconds: int, connections: int, prefix: str) -> dict[str, float]:
    """Load from wrk (C, outside our GIL): (events/s, p50 ms, p99 ms)."""
    template = json.dumps(event("invoice.sent", "@ID@", external_id="inv-@ID@"))
    template = template.replace("%", "%%").replace("@ID@", "%s")
    lua = WRK_SCRIPT.replace("PREFIX", json.dumps(prefix)).replace(
        "TEMPLATE", "[==[" + template + "]==]").replace(
        "HEADERS", '{["Authorization"]="Bearer ' + KEY
        + '", ["Content-Type"]="application/json"}')
    result = wrk.run(port, lua, threads=2, connections=connections, seconds=seconds)
    if result.errors:
        raise SystemExit(f"{result.errors} requests failed:\n{result.output}")
    return {"events_per_s": result.rate, "p50_ms": result.p50_ms, "p99_ms": result.p99_ms}


def bodies(count: int, prefix: str) -> list[bytes]:
    return [json.dumps(event("invoice.sent", f"{prefix}-{i}", external_id=f"inv-{prefix}-{i}"))
            .encode() for i in range(count)]


def measure(port: int, args: argparse.Namespace, prefix: str) -> dict[str, Any]:
    load(port, bodies(300, "warm" + prefix), args.clients)
    ticks = cpu_ticks()
    if shutil.which("wrk") and not args.python_client:
        return {**load_wrk(port, args.seconds, args.clients, prefix),
                "steal": stolen_since(ticks)}
    seconds, latencies = load(port, bodies(args.events, prefix), args.clients)
    latencies.sort()
    return {"events_per_s": len(latencies) / seconds,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "steal": stolen_since(ticks)}


def backlog(database: Path) -> str:
    """Whether the workers kept up: deliveries done and still waiting when the load stopped."""
    import sqlite3

    with sqlite3.connect(database) as conn:
        counts = dict(conn.execute("SELECT status = 'done', count(*) FROM hub_delivery "
                                   "GROUP BY status = 'done'").fetchall())
    return (f"deliveries: {counts.get(1, 0)} done by the same process meanwhile, "
            f"{counts.get(0, 0)} still waiting when the load stopped")


def report(name: str, figures: dict[str, Any]) -> dict[str, Any]:
    print(f"{name:<28} {figures['events_per_s']:8.0f} events/s   p50 {figures['p50_ms']:6.1f} ms"
          f"   p99 {figures['p99_ms']:6.1f} ms   ({figures['steal']})")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="with wrk: how long to load")
    parser.add_argument("--events", type=int, default=6000, help="without wrk: how many")
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument("--python-client", action="store_true",
                        help="load from Python threads even when wrk is installed")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "QBO_"))}
    env.update(HUB_DATABASE_URL=f"sqlite:///{work}/hub.db", HUB_API_KEY=KEY,
               HUB_PLUGINS="noop=bench.noop_plugin", PYTHONPATH=str(ROOT))
    tool = "wrk" if shutil.which("wrk") and not args.python_client else "Python threads"
    print(f"{args.clients} keep-alive connections from {tool}, {os.cpu_count()} cores, "
          "SQLite WAL synchronous=FULL")

    # Only the no-op plugin takes the events, so each event writes what the bare endpoint's
    # does: the event and one delivery (QuickBooks, enabled by default, would add its own).
    for name in ("quickbooks", "review_requests", "booking_gate"):
        subprocess.run([sys.executable, "-m", "hub", "plugins", "disable", name], env=env,
                       check=True, capture_output=True)
    port = free_port()
    hub = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--port", str(port)], env=env,
                           stderr=subprocess.DEVNULL)
    try:
        wait_up(port, "/healthz")
        hub_figures = report("hub serve", measure(port, args, "hub"))
        print(f"{'':<28} {backlog(work / 'hub.db')}")
    finally:
        hub.terminate()
        hub.wait(15)

    # The bare endpoint writes into a copy of the same schema.
    bare_db = work / "bare.db"
    subprocess.run([sys.executable, "-c", (
        "from hub.config import load_config; from hub.queue.db import make_engine, migrate;"
        f"migrate(make_engine(load_config({{'HUB_DATABASE_URL': 'sqlite:///{bare_db}', "
        "'HUB_SECRET_KEY': 'x'}, dotenv=False)))")], env=env, check=True)
    port = free_port()
    bare = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_endpoint.py"),
                             str(bare_db), str(port)], env=env, stderr=subprocess.DEVNULL)
    try:
        wait_up(port, "/")
        bare_figures = report("bare WSGI insert (ceiling)", measure(port, args, "bare"))
    finally:
        bare.terminate()
        bare.wait(15)
    ratio = hub_figures["events_per_s"] / bare_figures["events_per_s"]
    print(f"hub / ceiling: {ratio:.0%}")


if __name__ == "__main__":
    main()
