"""A throwaway PostgreSQL cluster for the test session, or the one HUB_TEST_POSTGRES_URL names.

As root (CI, these machines) the cluster is made with initdb as the postgres user, on a free
port, and removed afterwards. Elsewhere without PostgreSQL the tests that need it skip, naming
the variable to set, except under CI=true where they fail: CI must run every test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"{reason}; set HUB_TEST_POSTGRES_URL to run this test")  # not in CI: fails above


@contextmanager
def cluster() -> Iterator[str]:
    """Yield a server URL (a maintenance database) for the session."""
    given = os.environ.get("HUB_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    if not (BIN / "initdb").exists():
        unavailable("PostgreSQL 15 is not installed (apt-get install postgresql)")
    if os.geteuid() != 0 and not shutil.which("pg_ctl"):
        unavailable("cannot start a throwaway PostgreSQL here")
    workdir = Path(tempfile.mkdtemp(prefix="hub-pg-"))
    data = workdir / "data"
    port = _free_port()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_pg:
        shutil.chown(workdir, "postgres", "postgres")
    try:
        subprocess.run(as_pg + [str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U",
                                "postgres", "--no-sync"], check=True, capture_output=True)
        opts = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off " \
               "-c max_connections=200"
        subprocess.run(as_pg + [str(BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-w",
                                "-l", str(workdir / "log"), "start"],
                       check=True, capture_output=True)
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        unavailable(f"could not start PostgreSQL: {exc}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_pg + [str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                "stop"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


def new_database(server_url: str) -> str:
    """A fresh, empty database on the server; returns its URL."""
    import psycopg

    name = "hub_" + uuid.uuid4().hex[:12]
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name
