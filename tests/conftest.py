"""Fixtures: a fresh hub and app per test, on SQLite in a temporary directory or on PostgreSQL."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from hub.config import Config, load_config
from hub.hub import Hub
from hub.testing import (  # noqa: F401 (moved to hub.testing; imported here by their old names)
    API_KEY,
    base_env,
    free_port,
    loopback_http,
    wait_for,
)
from hub.web.app import create_app
from tests import postgres
from tests.plugins.recorder import Recorder

ROOT = Path(__file__).resolve().parent.parent


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment for a ``hub`` subprocess: ours plus the test settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "QBO_"))}
    env.update(base_env(tmp_path))
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """OWASP's scrypt (hub.ui.auth.OWASP_SCRYPT) costs about a second and 128 MiB a hash: the
    tests' many sign-ins use a cheap scrypt instead. The ``hub`` processes of
    tests/test_behind_tls.py use the real one, as does the upgrade test in
    tests/ui/test_sessions.py."""
    from hub.ui import auth

    monkeypatch.setattr(auth, "HASH_METHOD", "scrypt:1024:8:1")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    with postgres.cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/hub.db"
    return postgres.new_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(base_env(tmp_path), dotenv=False)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_hub(config: Config) -> Iterator[Any]:
    made: list[Hub] = []

    def make(*plugins: tuple[str, Any], cfg: Config | None = None, **kwargs: Any) -> Hub:
        hub = Hub(cfg or config, plugins=list(plugins), entrypoints=False, **kwargs)
        made.append(hub)
        return hub

    yield make
    for hub in made:
        hub.close()


@pytest.fixture
def hub(make_hub: Any, recorder: Recorder) -> Hub:
    return make_hub(("recorder", recorder))  # type: ignore[no-any-return]


@pytest.fixture
def client(hub: Hub) -> FlaskClient:
    return create_app(hub).test_client()


@contextmanager
def serving(app: Any, port: int = 0) -> Iterator[str]:
    """The app through the hub's HTTP server on a real socket, as ``hub serve`` runs it."""
    from hub.web.http_server import HTTPServer

    server = HTTPServer(app, port=port, threads=4)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@pytest.fixture
def served(hub: Hub) -> Iterator[str]:
    with serving(create_app(hub)) as url:
        yield url


class Lines:
    """A process's output, line by line as it comes (read by a thread: no polling)."""

    def __init__(self, stream: Any) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """The first line holding ``text`` from here on; fails naming what came instead."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} in {timeout} s: {self.seen}") from None
            if line is None:
                raise AssertionError(f"the process ended without {text!r}: {self.seen}")
            self.seen.append(line)
            if text in line:
                return line


# Debian's Chromium, driven by Playwright (it cannot download browsers on these machines).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI must run the browser tests)")
        pytest.skip(message)  # outside CI only: under CI=true it failed above
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


HUB = [sys.executable, "-m", "hub"]


@contextmanager
def running(args: list[str], env: dict[str, str], cwd: Path | None = None
            ) -> Iterator[tuple[subprocess.Popen[str], Lines]]:
    """A process with its output (stdout and stderr together) read line by line; stopped,
    killed if it must be, at the end."""
    process = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        yield process, Lines(process.stdout)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
