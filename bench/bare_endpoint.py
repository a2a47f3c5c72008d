"""The stack's ceiling: a bare WSGI endpoint on the same server (the hub's: granian) and database
settings that only inserts the same event and delivery rows the hub does, with no framework,
no validation, no plugins. Run as ``python bench/bare_endpoint.py DB PORT``."""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import threading
from datetime import UTC, datetime

from hub.web.http_server import HTTPServer

local = threading.local()


def connection(path: str) -> sqlite3.Connection:
    if not hasattr(local, "conn"):
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        local.conn = conn
    return local.conn  # type: ignore[no-any-return]


def make_app(path: str):  # noqa: ANN201
    def app(environ, start_response):  # noqa: ANN001, ANN202
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size)
        event = json.loads(body)
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        conn = connection(path)
        conn.execute("BEGIN IMMEDIATE")
        try:
            _insert(conn, event, now)
        except Exception:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        out = json.dumps({"id": event["id"], "status": "pending"}).encode()
        start_response("202 Accepted", [("Content-Type", "application/json"),
                                         ("Content-Length", str(len(out)))])
        return [out]
    return app


def _insert(conn: sqlite3.Connection, event: dict, now: str) -> None:
    subject = "invoice:" + event["data"]["external_id"]
    cur = conn.execute(
        "INSERT INTO hub_event (source, key, type, occurred_at, received_at, body_hash, "
        "data, subject) VALUES ('host', ?, ?, ?, ?, '', ?, ?) RETURNING pk",
        (event["id"], event["type"], now, now, json.dumps(event["data"]), subject))
    pk = cur.fetchone()[0]
    conn.execute(
        "INSERT INTO hub_delivery (event_pk, plugin, hook, subject, status, attempts, "
        "next_attempt_at, updated_at) VALUES (?, 'noop', 'on_invoice_sent', ?, 'pending', "
        "0, ?, ?)", (pk, subject, now, now))


if __name__ == "__main__":
    server = HTTPServer(make_app(sys.argv[1]), port=int(sys.argv[2]), threads=16)
    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    server.start()
    signal.sigwait(stop)
    server.stop()
