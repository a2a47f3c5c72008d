"""`make run` (scripts/run_local.py) as a newcomer meets it. Seen: with HUB_PORT taken by another
hub it said "Ledgerline Hub is running." while the two hubs answered in turn; with
HUB_EMULATOR_PORT taken it connected the new hub to the emulator already there; its QuickBooks
line said "QuickBooks" twice; and the lock file the hub makes beside hub.db was left untracked
in git."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.conftest import ROOT, free_port, running, subprocess_env

SCRIPT = [sys.executable, str(ROOT / "scripts" / "run_local.py")]
EMULATOR = [sys.executable, "-m", "hub.builtin.quickbooks.emulator"]


def make_run_env(folder: Path, hub_port: int, emulator_port: int) -> dict[str, str]:
    env = subprocess_env(folder, HUB_PORT=str(hub_port), HUB_EMULATOR_PORT=str(emulator_port))
    for name in ("HUB_API_KEY", "HUB_SECRET_KEY", "HUB_DATABASE_URL"):
        env.pop(name, None)  # the embedded defaults, as on a fresh machine
    return env


@contextmanager
def shared_listener() -> Iterator[socket.socket]:
    """A listener as granian makes one: its port open to others with SO_REUSEPORT too."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener


def reaches_only(listener: socket.socket, port: int) -> bool:
    """Whether every new connection to ``port`` is one ``listener`` accepts."""
    listener.settimeout(5)
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            try:
                accepted, _ = listener.accept()
            except TimeoutError:
                return False
            accepted.close()
    return True


def test_make_run_stops_when_hub_port_is_taken(tmp_path: Path) -> None:
    with shared_listener() as taken:
        port = taken.getsockname()[1]
        emulator_port = free_port()
        done = subprocess.run(SCRIPT, env=make_run_env(tmp_path, port, emulator_port),
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0
        assert done.stderr.strip() == (
            f"Error: port {port} (HUB_PORT) cannot be used: something already listens there "
            f"(another hub, or another program). Set HUB_PORT to a free port, e.g. "
            f"HUB_PORT={port + 100} make run")
        assert "Ledgerline Hub is running." not in done.stdout
        assert "emulator" not in done.stdout  # stopped before anything started
        assert not (tmp_path / "hub.db").exists()
        assert reaches_only(taken, port)


def test_make_run_never_uses_an_emulator_that_is_already_there(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    ours = tmp_path / "ours"
    theirs.mkdir()
    ours.mkdir()
    emulator_port = free_port()
    other = [*EMULATOR, "--port", str(emulator_port), "--state", str(theirs / "emulator.json")]
    with running(other, subprocess_env(theirs), cwd=theirs) as (_emulator, said):
        said.wait_for("QuickBooks Online emulator on")
        before = requests.get(f"http://127.0.0.1:{emulator_port}/_emulator/books.json",
                              timeout=10).json()
        done = subprocess.run(SCRIPT, env=make_run_env(ours, free_port(), emulator_port),
                              cwd=ours, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0
        assert done.stderr.strip() == (
            f"Error: port {emulator_port} (HUB_EMULATOR_PORT) cannot be used: something "
            "already listens there (another QuickBooks emulator, which this hub must not use, "
            "or another program). Set HUB_EMULATOR_PORT to a free port, e.g. "
            f"HUB_EMULATOR_PORT={emulator_port + 100} make run")
        assert "Ledgerline Hub is running." not in done.stdout
        assert "using the bundled QuickBooks emulator" not in done.stdout
        assert not (ours / "hub.db").exists()  # nothing connected to theirs
        after = requests.get(f"http://127.0.0.1:{emulator_port}/_emulator/books.json",
                             timeout=10).json()
        assert after == before


def test_make_run_says_what_comes_next_once_and_leaves_git_nothing_untracked(
        tmp_path: Path) -> None:
    # A fresh clone's folder as git sees it: the project's .gitignore, nothing else.
    shutil.copy(ROOT / ".gitignore", tmp_path / ".gitignore")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", ".gitignore"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "the clone"], cwd=tmp_path, check=True)

    env = make_run_env(tmp_path, free_port(), free_port())
    with running(SCRIPT, env, cwd=tmp_path) as (process, output):
        output.wait_for("Ctrl-C stops the hub.", timeout=60)
        [line] = [seen for seen in output.seen if seen.startswith("  QuickBooks ")]
        assert line.split()[:2] == ["QuickBooks", "connected:"], line
        assert line.count("QuickBooks") == 1, line
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                                cwd=tmp_path, capture_output=True, text=True, check=True)
        assert status.stdout == "", status.stdout  # while it runs: its lock files too
        process.terminate()
        assert process.wait(20) == 0
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=tmp_path, capture_output=True, text=True, check=True)
    assert status.stdout == "", status.stdout
