"""One writer with group commit, for SQLite.

SQLite has one writer at a time and, with ``synchronous=FULL``, one fsync per commit: accepting
events one transaction each is bound by the disk. Here every write of this process goes to one
thread that runs whatever is queued in one transaction, commits once, and only then answers each
caller: a caller still returns only after its own write is durable, but many share a commit.
Should a piece fail, the batch is rolled back and each piece run again in a transaction of its
own, so one failure never takes the others down (failures are rare; a savepoint around every
piece would cost every write).

Processes on one SQLite file (``hub web`` and ``hub worker`` run apart) take turns through a
lock file next to the database: the next writer is woken the moment the lock is released,
where SQLite's own busy handler would sleep and poll (measured: p99 of accepting events while a
worker process ran went from 1.26 s to 77 ms). SQLite's lock still guards every transaction; the
lock file only orders the hub's own writers.

On PostgreSQL, which has many writers, writes run directly in their own transactions.

Why it is ours: SQLAlchemy and the SQLite drivers commit one transaction per caller, and no
library we found batches many callers' writes into one durable commit while still answering
each only after its own write is on disk, and still retrying a failed batch piece by piece. The
cross-process lock file is tied to how the hub splits its roles, which no library knows about.
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

log = logging.getLogger("hub.writer")
T = TypeVar("T")
_BATCH = 256


def _open_lock_file(engine: Engine) -> int | None:
    """The file the hub's writers on one SQLite database take turns on; None in memory."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)


class _Answer:
    """One write's result, handed from the writer thread to the caller.

    A lock the writer releases: the cheapest way CPython has to wake one thread (a Future
    goes through a Condition, which cost the writer a fifth of its time)."""

    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Lock()
        self.done.acquire()
        self.value: Any = None
        self.error: BaseException | None = None

    def set_result(self, value: Any) -> None:
        self.value = value
        self.done.release()

    def set_exception(self, error: BaseException) -> None:
        self.error = error
        self.done.release()

    def result(self) -> Any:
        self.done.acquire()
        if self.error is not None:
            raise self.error
        return self.value


class GroupWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: queue.SimpleQueue[tuple[Callable[[Connection], Any], _Answer] | None]
        self._queue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._conn: Connection
        self._turns: int | None = None

    def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)`` in a transaction; return its result once committed."""
        if self.engine.dialect.name != "sqlite":
            with self.engine.begin() as conn:
                return fn(conn)
        if threading.current_thread() is self._thread:  # a write from inside a write
            raise RuntimeError("GroupWriter.write called from the writer thread")
        self._start()
        answer = _Answer()
        self._queue.put((fn, answer))
        return answer.result()  # type: ignore[no-any-return]

    def _start(self) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the hub is closed")
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="hub-writer",
                                                daemon=True)
                self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread and thread.is_alive():
            self._queue.put(None)
            thread.join(10)

    def _run(self) -> None:
        # The writer keeps one connection for its life: a pool checkout and reset per batch
        # costs more than the inserts.
        self._conn = self.engine.connect()
        self._turns = _open_lock_file(self.engine)
        try:
            self._loop()
        finally:
            self._conn.close()
            if self._turns is not None:
                os.close(self._turns)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < _BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            if self._turns is None:
                self._commit(batch)
                continue
            fcntl.flock(self._turns, fcntl.LOCK_EX)  # waits in the kernel, GIL released
            try:
                self._commit(batch)
            finally:
                fcntl.flock(self._turns, fcntl.LOCK_UN)

    def _commit(self, batch: list[tuple[Callable[[Connection], Any], _Answer]]) -> None:
        conn = self._conn
        if len(batch) > 1:
            try:
                with conn.begin():
                    values = [fn(conn) for fn, _future in batch]
            except Exception:
                pass  # run them one by one below, so only the failing piece fails
            else:
                for (_fn, future), value in zip(batch, values, strict=True):
                    future.set_result(value)
                return
        for fn, future in batch:
            try:
                with conn.begin():
                    value = fn(conn)
            except Exception as exc:
                future.set_exception(exc)
            else:
                future.set_result(value)
