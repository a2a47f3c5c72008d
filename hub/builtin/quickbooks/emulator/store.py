"""All emulator state in one JSON-shaped dict, guarded by one lock, optionally saved to a file.

One lock keeps every write (and its idempotency record) atomic; request handling outside the
lock (latency, throttling) still overlaps, so concurrency limits stay real.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
from collections import OrderedDict
from typing import Any

from .clock import epoch, qbo_timestamp

Company = dict[str, Any]

# How many requestid answers a company remembers; old ones fall off first.
IDEMPOTENCY_MEMORY = 5000


def empty_state() -> dict[str, Any]:
    return {"companies": {}, "oauth": {"codes": {}, "access": {}, "refresh": {}, "grants": {}}}


class Store:
    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.data: dict[str, Any] = empty_state()

    # -- persistence -------------------------------------------------------------------------
    def load(self) -> bool:
        """Load the state file if there is one; True when something was loaded."""
        if not self.path or not os.path.exists(self.path):
            return False
        with open(self.path, encoding="utf-8") as handle:
            loaded = json.load(handle)
        with self.lock:
            self.data = empty_state() | loaded
        return True

    def save(self) -> None:
        """Write atomically (temp file + rename) so a crash never leaves half a company."""
        if not self.path:
            return
        with self.lock:
            text = json.dumps(self.data, indent=1, sort_keys=True)
        directory = os.path.dirname(os.path.abspath(self.path))
        # The README's --state .hub/emulator.json, in a clone where nothing made .hub yet.
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".qbo-emulator-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.data)

    # -- companies ---------------------------------------------------------------------------
    def company(self, realm: str) -> Company | None:
        return self.data["companies"].get(realm)

    def add_company(self, realm: str, company: Company) -> None:
        with self.lock:
            self.data["companies"][realm] = company


def new_company(realm: str, name: str, country: str = "US", currency: str = "USD") -> Company:
    return {
        "realm": realm,
        "name": name,
        "country": country,
        "currency": currency,
        "next_id": 1,
        "next_doc_number": 1001,
        "entities": {},
        "tombstones": [],
        "idempotency": {},
    }


def allocate_id(company: Company) -> str:
    ident = company["next_id"]
    company["next_id"] = ident + 1
    return str(ident)


def table(company: Company, entity: str) -> dict[str, dict[str, Any]]:
    return company["entities"].setdefault(entity, {})


def editable(company: Company, entity: str, ident: str) -> dict[str, Any] | None:
    """Copy-on-write: replace the stored object with a private copy before changing it, so a
    savepoint (a shallow copy of the tables) still holds the untouched original."""
    objects = table(company, entity)
    obj = objects.get(ident)
    if obj is None:
        return None
    fresh = copy.deepcopy(obj)
    objects[ident] = fresh
    return fresh


def stamp_created(obj: dict[str, Any]) -> None:
    moment = qbo_timestamp()
    obj["SyncToken"] = "0"
    obj["MetaData"] = {"CreateTime": moment, "LastUpdatedTime": moment}
    obj["_updated_epoch"] = epoch()


def stamp_updated(obj: dict[str, Any]) -> None:
    """Every write bumps SyncToken (a string, as Intuit sends it) and LastUpdatedTime."""
    obj["SyncToken"] = str(int(obj.get("SyncToken", "0")) + 1)
    obj.setdefault("MetaData", {})["LastUpdatedTime"] = qbo_timestamp()
    obj["_updated_epoch"] = epoch()


def record_tombstone(company: Company, entity: str, ident: str) -> None:
    """Deleted objects stay visible to change data capture as `status: Deleted`."""
    now = epoch()
    # CDC looks back 30 days at most; older tombstones can go.
    company["tombstones"] = [t for t in company["tombstones"] if t["epoch"] > now - 31 * 86400]
    company["tombstones"].append(
        {"entity": entity, "Id": ident, "LastUpdatedTime": qbo_timestamp(), "epoch": now}
    )


def public(obj: dict[str, Any]) -> dict[str, Any]:
    """Strip the emulator's private bookkeeping keys (leading underscore) from an answer."""
    return {key: value for key, value in obj.items() if not key.startswith("_")}


def remember_answer(company: Company, request_id: str, status: int, body: str) -> None:
    answers = company["idempotency"]
    answers[request_id] = {"status": status, "body": body}
    if len(answers) > IDEMPOTENCY_MEMORY:
        ordered = OrderedDict(answers)
        while len(ordered) > IDEMPOTENCY_MEMORY:
            ordered.popitem(last=False)
        company["idempotency"] = dict(ordered)


def stored_answer(company: Company, request_id: str) -> dict[str, Any] | None:
    return company["idempotency"].get(request_id)
