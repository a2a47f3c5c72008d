"""The SQLite writer: processes on one database file take turns through the lock file."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import text

from hub.hub import Hub
from hub.queue.db import reading


def test_a_write_waits_its_turn_while_another_process_writes(hub: Hub, tmp_path: Path) -> None:
    # flock locks belong to an open file: this descriptor stands for another process's writer.
    other = os.open(tmp_path / "hub.db-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other, fcntl.LOCK_EX)
    finished = threading.Event()
    answer: list[Any] = []

    def write() -> None:
        answer.append(hub.write(lambda conn: conn.execute(
            text("INSERT INTO hub_meta (key, value) VALUES ('turn', 'mine')")).rowcount))
        finished.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert not finished.wait(0.5), "wrote while another process held the turn"
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    assert finished.wait(10) and answer == [1]
    writer.join()
    with reading(hub.engine) as conn:
        found = conn.execute(text("SELECT value FROM hub_meta WHERE key = 'turn'")).scalar()
    assert found == "mine"
