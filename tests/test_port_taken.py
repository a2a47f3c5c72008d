"""A port something already listens on stops the hub at start, even when that something shares
its port (SO_REUSEPORT) as granian, and so every other hub, does. Seen: a second `hub serve` on
the first one's port bound beside it, and the kernel handed requests to the two in turn (200 401
200 401, each hub with its own key)."""

from __future__ import annotations

import http.client
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.web.http_server import HTTPServer
from tests.conftest import HUB, free_port, running, subprocess_env


def saying(word: bytes) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [word]
    return app


def test_a_second_server_on_a_servers_port_refuses_and_the_first_answers_alone() -> None:
    first = HTTPServer(saying(b"first"), port=0, threads=2)
    first.start()
    try:
        second = HTTPServer(saying(b"second"), port=first.port, threads=2)
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{first.port}: "
                                          "Address already in use"):
            second.start()
        # A new connection each: shared, about half of them would reach the second.
        answers = [requests.get(f"http://127.0.0.1:{first.port}/", timeout=5).text
                   for _ in range(20)]
        assert set(answers) == {"first"}
    finally:
        first.stop()


def test_a_server_starts_again_on_the_port_it_just_left() -> None:
    """The check before binding must not count what a stopped server leaves (TIME_WAIT)."""
    first = HTTPServer(saying(b"first"), port=0, threads=2)
    first.start()
    port = first.port
    kept = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    kept.request("GET", "/")
    assert kept.getresponse().read() == b"first"  # kept alive: the server closes it, on stop
    first.stop()
    kept.close()
    again = HTTPServer(saying(b"again"), port=port, threads=2)
    again.start()
    try:
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).text == "again"
    finally:
        again.stop()


def test_hub_serve_on_another_hubs_port_stops_and_the_first_hub_answers_alone(
        tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first_env = subprocess_env(tmp_path / "first", HUB_API_KEY="first-hub-key-0123456789")
    with running(HUB + ["serve", "--port", str(port)], first_env) as (_first, first_log):
        first_log.wait_for("Ledgerline Hub on http://127.0.0.1")
        second_env = subprocess_env(tmp_path / "second", HUB_API_KEY="second-hub-key-012345678")
        done = subprocess.run(HUB + ["serve", "--port", str(port)], env=second_env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, done.stderr
        [said] = [line for line in done.stderr.splitlines() if "Error" in line]
        assert said == (f"Error: cannot listen on 127.0.0.1:{port}: Address already in use; "
                        "stop what uses it or choose another --port (with make run: set "
                        "HUB_PORT to a free port)")
        assert "Traceback" not in done.stderr and "workers started" not in done.stderr
        # The first hub is still the only one there: every new connection reaches it.
        statuses = [requests.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5,
                                 headers={"Authorization": "Bearer first-hub-key-0123456789"}
                                 ).status_code for _ in range(20)]
        assert statuses == [200] * 20
