"""How fast the hub accepts events: events/s and p50/p99 accept latency through ``hub serve`` on
SQLite (synchronous=FULL, the default), side by side in the same run with a bare WSGI endpoint
that only inserts the same rows (the stack's ceiling).

    make bench            # or: .venv/bin/python bench/accept.py [--events 6000] [--clients 16]

Each event is an ``invoice.sent`` with two lines, a discount and tax, validated in full; a no-op
plugin takes it, so every event also writes one delivery row that the hub's workers then run,
in the same process, while the load goes on.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def bodies(count: int, prefix: str) -> list[bytes]:
    return [json.dumps(event("invoice.sent", f"{prefix}-{i}", external_id=f"inv-{prefix}-{i}"))
            .encode() for i in range(count)]


def report(name: str, seconds: float, latencies: list[float]) -> dict[str, float]:
    latencies.sort()
    figures = {"events_per_s": len(latencies) / seconds,
               "p50_ms": statistics.median(latencies) * 1000,
               "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000}
    print(f"{name:<28} {figures['events_per_s']:8.0f} events/s   p50 {figures['p50_ms']:6.1f} ms"
          f"   p99 {figures['p99_ms']:6.1f} ms")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "QBO_"))}
    env.update(HUB_DATABASE_URL=f"sqlite:///{work}/hub.db", HUB_API_KEY=KEY,
               HUB_PLUGINS="noop=bench.noop_plugin", PYTHONPATH=str(ROOT))
    print(f"{args.events} events from {args.clients} keep-alive clients, "
          f"{os.cpu_count()} cores, SQLite WAL synchronous=FULL")

    port = free_port()
    hub = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--port", str(port)], env=env,
                           stderr=subprocess.DEVNULL)
    try:
        wait_up(port, "/healthz")
        load(port, bodies(300, "warm"), args.clients)
        hub_figures = report("hub serve", *load(port, bodies(args.events, "hub"), args.clients))
    finally:
        hub.terminate()
        hub.wait(15)

    # The bare endpoint writes into a copy of the same schema.
    bare_db = work / "bare.db"
    subprocess.run([sys.executable, "-c", (
        "from hub.config import load_config; from hub.db import make_engine, migrate;"
        f"migrate(make_engine(load_config({{'HUB_DATABASE_URL': 'sqlite:///{bare_db}', "
        "'HUB_SECRET_KEY': 'x'}, dotenv=False)))")], env=env, check=True)
    port = free_port()
    bare = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_endpoint.py"),
                             str(bare_db), str(port)], env=env, stderr=subprocess.DEVNULL)
    try:
        wait_up(port, "/")
        load(port, bodies(300, "warm"), args.clients)
        bare_figures = report("bare WSGI insert (ceiling)",
                              *load(port, bodies(args.events, "bare"), args.clients))
    finally:
        bare.terminate()
        bare.wait(15)
    ratio = hub_figures["events_per_s"] / bare_figures["events_per_s"]
    print(f"hub / ceiling: {ratio:.0%}")


if __name__ == "__main__":
    main()
