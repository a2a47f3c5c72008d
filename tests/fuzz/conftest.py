"""A real ``hub serve`` for the fuzzing tests: a subprocess on a fresh SQLite file, a known API
key, no QuickBooks credentials, and the sink plugin (tests/fuzz/sink.py) as the plugin every
event must reach. Its stderr goes to a file, so a test that meets a 5xx can show the hub's own
traceback for it."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.conftest import API_KEY, HUB, free_port, subprocess_env, wait_for

AUTH = {"Authorization": f"Bearer {API_KEY}"}
SINK = "fuzz_sink"


@dataclass
class Served:
    """A running ``hub serve``: where it listens, its log, what its sink plugin saw."""

    url: str
    process: subprocess.Popen[str]
    log: Path
    sink: Path
    session: requests.Session

    def post(self, body: Any, **kwargs: Any) -> requests.Response:
        return self.session.post(f"{self.url}/api/v1/events", json=body, timeout=10, **kwargs)

    def status(self, event_id: str) -> dict[str, Any]:
        answer = self.session.get(f"{self.url}/api/v1/events/{quote(event_id, safe='')}",
                                  timeout=10)
        assert answer.status_code == 200, (answer.status_code, answer.text)
        return answer.json()  # type: ignore[no-any-return]

    def wait_done(self, event_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """Poll an event's status until it is ``done``; on the deadline, say how it stands."""
        deadline = time.monotonic() + timeout
        while (view := self.status(event_id))["status"] != "done":
            if time.monotonic() > deadline:
                raise AssertionError(f"{event_id!r} not delivered in {timeout:.0f} s: {view}\n"
                                     f"The hub logged:\n{self.log_since(0)[-20_000:]}")
            time.sleep(0.05)
        return view

    def log_size(self) -> int:
        return self.log.stat().st_size

    def log_since(self, offset: int) -> str:
        """What the hub logged after ``offset`` (a moment later: its records are flushed as
        written, but a worker thread may still be writing one)."""
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def sink_lines(self) -> list[str]:
        return self.sink.read_text().splitlines() if self.sink.exists() else []


@pytest.fixture(scope="module")
def hub_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp_path = tmp_path_factory.mktemp("hub-serve")
    port = free_port()
    sink, log = tmp_path / "sink.txt", tmp_path / "hub.log"
    env = subprocess_env(tmp_path, HUB_PLUGINS=f"{SINK}=tests.fuzz.sink",
                         FUZZ_SINK_FILE=str(sink), HUB_RETRY_BASE_SECONDS="1",
                         HUB_MAX_ATTEMPTS="2")
    # Without Intuit credentials the QuickBooks plugin would hold every delivery ("waiting")
    # and no event could ever be done; the booking gate is switched on so that the booking
    # check reaches a plugin.
    for command in (["disable", "quickbooks"], ["enable", "booking_gate"]):
        subprocess.run(HUB + ["plugins", *command], env=env, check=True,
                       stdout=subprocess.DEVNULL, timeout=60)
    with log.open("w") as stderr:
        process = subprocess.Popen(HUB + ["serve", "--port", str(port)], env=env,
                                   stderr=stderr, stdout=subprocess.DEVNULL, text=True)
    session = requests.Session()
    session.headers.update(AUTH)
    served = Served(f"http://127.0.0.1:{port}", process, log, sink, session)
    try:
        def up() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return requests.get(f"{served.url}/healthz", timeout=1).ok
            except requests.ConnectionError:
                return False
        wait_for(up, "hub serve to listen")
        yield served
    finally:
        session.close()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
