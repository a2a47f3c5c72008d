"""Real ``hub`` processes: a worker killed mid-delivery loses nothing; two workers on
PostgreSQL never run one delivery twice; ``hub serve`` accepts and delivers over HTTP."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import requests

from hub.clock import utcnow
from hub.config import load_config
from hub.events import Contact
from hub.hub import Hub
from tests import postgres
from tests.conftest import API_KEY, HUB, base_env, free_port, subprocess_env, wait_for
from tests.samples import CONTACT, event

pytestmark = pytest.mark.slow


def ledger_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def accept_contacts(hub: Hub, count: int) -> None:
    for i in range(count):
        contact = Contact.model_validate({**CONTACT, "external_id": f"c-{i}"})
        hub.accept_host_event(f"evt_{i}", "contact", utcnow(), contact, str(i))


def test_a_worker_killed_mid_delivery_loses_nothing(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    env = subprocess_env(tmp_path, HUB_PLUGINS="ledger=tests.plugins.ledger",
                         LEDGER_FILE=str(ledger))
    hub = Hub(load_config(env, dotenv=False), entrypoints=False)
    accept_contacts(hub, 1)
    first = subprocess.Popen(HUB + ["worker"], env={**env, "LEDGER_BLOCK": "1"},
                             stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: any(line.startswith("start") for line in ledger_lines(ledger)),
                 "the first worker to start the delivery")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert hub.event("evt_0")["deliveries"][0]["status"] == "running"
        second = subprocess.Popen(HUB + ["worker"], env=env, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: hub.event("evt_0")["status"] == "done", "redelivery")
        finally:
            second.terminate()
            second.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    lines = ledger_lines(ledger)
    assert [line.split()[:3] for line in lines] == [
        ["start", "evt_0", "1"], ["start", "evt_0", "2"], ["done", "evt_0", "2"]]
    assert hub.event("evt_0")["deliveries"][0]["attempts"] == 2
    hub.close()


@pytest.mark.postgres
def test_two_workers_on_postgres_run_each_of_1000_deliveries_once(
    tmp_path: Path, pg_server: str
) -> None:
    url = postgres.new_database(pg_server)
    ledger = tmp_path / "ledger.txt"
    gate = tmp_path / "gate"
    gate.touch()
    env = subprocess_env(tmp_path, HUB_DATABASE_URL=url, HUB_PLUGINS="ledger=tests.plugins.ledger",
                         LEDGER_FILE=str(ledger), LEDGER_GATE=str(gate),
                         HUB_WORKER_THREADS="4")
    hub = Hub(load_config(env, dotenv=False), entrypoints=False)
    accept_contacts(hub, 1000)
    # Deliveries wait at the gate until both processes hold some: one fast process must not
    # finish all 1,000 before the other has started.
    held = os.open(gate, os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)
    workers = [subprocess.Popen(HUB + ["worker"], env=env, stderr=subprocess.DEVNULL)
               for _ in range(2)]
    try:
        wait_for(lambda: len({line.split()[3] for line in ledger_lines(ledger)}) == 2,
                 "both workers to start deliveries")
        fcntl.flock(held, fcntl.LOCK_UN)
        wait_for(lambda: sum(1 for line in ledger_lines(ledger) if line.startswith("done"))
                 >= 1000, "1,000 deliveries", timeout=120)
    finally:
        os.close(held)
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(10)
    done = [line.split() for line in ledger_lines(ledger) if line.startswith("done")]
    runs = Counter(event_id for _, event_id, _, _ in done)
    assert len(runs) == 1000 and max(runs.values()) == 1
    # Both processes took a share: the claim really was contended.
    assert len({pid for *_, pid in done}) == 2
    hub.close()


def test_hub_serve_accepts_and_delivers_over_http(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    port = free_port()
    env = subprocess_env(tmp_path, HUB_PLUGINS="ledger=tests.plugins.ledger",
                         LEDGER_FILE=str(ledger))
    server = subprocess.Popen(HUB + ["serve", "--port", str(port)], env=env,
                              stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def up() -> bool:
            try:
                return requests.get(f"{base}/healthz", timeout=1).ok
            except requests.ConnectionError:
                return False
        wait_for(up, "hub serve to listen")
        auth = {"Authorization": f"Bearer {API_KEY}"}
        answer = requests.post(f"{base}/api/v1/events", json=event("contact"), headers=auth,
                               timeout=5)
        assert answer.status_code == 202
        assert answer.headers["Server"] == "ledgerline-hub"  # granian, not Flask's dev server
        wait_for(lambda: requests.get(f"{base}/api/v1/events/evt_1", headers=auth, timeout=5)
                 .json()["status"] == "done", "the delivery")
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=15)
    assert server.returncode == 0
    assert "Ledgerline Hub on http://127.0.0.1" in err
    assert "test-key" not in err and "test-secret" not in err  # no secret in the log
    assert [line.split()[0] for line in ledger_lines(ledger)] == ["start", "done"]



def test_serve_on_a_port_in_use_says_so_and_starts_nothing(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(HUB + ["serve", "--port", str(port)], env=subprocess_env(tmp_path),
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "another --port" in done.stderr
    assert "Traceback" not in done.stderr and "workers started" not in done.stderr

def test_migrations_match_the_models(tmp_path: Path) -> None:
    """The tables the core's and the installed plugins' migrations make are the tables their
    code describes."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    hub = Hub(load_config(base_env(tmp_path), dotenv=False))

    def ours(obj: object, name: str | None, kind: str, reflected: bool, _to: object) -> bool:
        return not (kind == "table" and name and name.startswith("alembic_version"))

    with hub.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": ours})
        diff = compare_metadata(context, SQLModel.metadata)
    hub.close()
    assert diff == []
    assert os.path.exists(tmp_path / "hub.db")
