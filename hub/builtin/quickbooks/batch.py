"""QuickBooks' batch endpoint: up to 30 operations or queries in one call, each answered on its
own by its ``bId`` (one item's fault does not undo the others).

The call goes through the same ``Api`` as every other, so it passes the hub's per-company
limiter as one request and its failures are the same typed faults. Intuit's limits for a batch:
at most 30 items; 40 batch calls a minute per company and app; a ``requestid`` of at most 36
characters, and then at most 10 for each ``bId`` (QuickBooks keys each item by the two joined).
A batch sent again with the same ``requestid`` is answered as the first time, so a caller that
records the request before sending it can resend exactly that after a lost answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.builtin.quickbooks import faults
from hub.builtin.quickbooks.api import Api

MAX_ITEMS = 30
MAX_REQUEST_ID = 36
MAX_BID = 10


@dataclass(frozen=True)
class Write:
    """Create, update or delete one object (``body`` as for the entity's own endpoint)."""

    bid: str
    entity: str
    operation: str  # create | update | delete
    body: dict[str, Any]


@dataclass(frozen=True)
class Query:
    bid: str
    text: str


Item = Write | Query


@dataclass(frozen=True)
class Answer:
    """One item's outcome: the saved object (a write) or the ``QueryResponse`` (a query), or
    the fault QuickBooks answered for that item alone."""

    bid: str
    value: dict[str, Any] | None = None
    fault: faults.QboError | None = None


def request_body(items: Sequence[Item]) -> dict[str, Any]:
    """The JSON body of one batch call for ``items`` (≤ 30)."""
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Query):
            out.append({"bId": item.bid, "Query": item.text})
        else:
            if item.operation not in ("create", "update", "delete"):
                raise ValueError(f"batch item {item.bid}: operation must be create, update or "
                                 f"delete, not {item.operation!r}")
            out.append({"bId": item.bid, "operation": item.operation, item.entity: item.body})
    body = {"BatchItemRequest": out}
    _check(body, None)
    return body


def _check(body: dict[str, Any], request_id: str | None) -> list[str]:
    bids = [str(item.get("bId", "")) for item in body.get("BatchItemRequest") or []]
    if not bids or len(bids) > MAX_ITEMS:
        raise ValueError(f"a batch takes 1 to {MAX_ITEMS} items, not {len(bids)}: use run()")
    if len(set(bids)) != len(bids) or not all(bids):
        raise ValueError("every batch item needs its own bId")
    if request_id is not None:
        if not request_id or len(request_id) > MAX_REQUEST_ID:
            raise ValueError(f"a batch requestid has 1 to {MAX_REQUEST_ID} characters, not "
                             f"{len(request_id)}")
        if max(len(b) for b in bids) > MAX_BID:
            raise ValueError(f"with a requestid, each bId has at most {MAX_BID} characters")
    return bids


def _value(entry: dict[str, Any]) -> dict[str, Any] | None:
    """What a successful item answered: its QueryResponse, or the object it saved."""
    if "QueryResponse" in entry:
        return dict(entry["QueryResponse"] or {})
    named = [key for key in entry if key not in ("bId", "Fault", "time")]
    return dict(entry[named[0]]) if named and isinstance(entry[named[0]], dict) else None


def send(api: Api, body: dict[str, Any] | str, request_id: str | None) -> dict[str, Answer]:
    """One batch call; each item's answer by its bId. ``body`` may be the JSON text recorded
    earlier, which is then sent byte for byte.

    A failure of the call as a whole raises, as any call does (``faults.Unavailable`` when no
    answer came: the batch may have been carried out, so send the same body with the same
    ``request_id`` again)."""
    text = body if isinstance(body, str) else json.dumps(body, default=str)
    bids = _check(json.loads(text) if isinstance(body, str) else body, request_id)
    answer = api.qb.make_request("POST", f"{api.qb.api_url}/company/{api.realm_id}/batch",
                                 text, request_id=request_id)
    found: dict[str, Answer] = {}
    for entry in answer.get("BatchItemResponse") or []:
        bid = str(entry.get("bId", ""))
        value = _value(entry)
        if entry.get("Fault"):
            fault = faults.from_response(400, {"Fault": entry["Fault"]}, "")
            found[bid] = Answer(bid, fault=fault)
        elif value is not None:
            found[bid] = Answer(bid, value=value)
    missing = [b for b in bids if b not in found]
    if missing:
        # Written or not, nobody can tell: treat it as no answer, so the caller resends.
        raise faults.Unavailable(f"QuickBooks' batch answer said nothing of items {missing}")
    return {b: found[b] for b in bids}


def chunk_request_id(request_id: str | None, number: int) -> str | None:
    """The ``requestid`` of the ``number``-th call (from 0) of a long list sent by ``run``."""
    if number == 0 or request_id is None:
        return request_id
    return hashlib.sha256(f"{request_id}\x1f{number}".encode()).hexdigest()[:MAX_REQUEST_ID]


def run(api: Api, items: Sequence[Item], request_id: str | None) -> dict[str, Answer]:
    """Any number of items, 30 to a call, in order; each call's ``requestid`` is derived from
    ``request_id``, so running the same list again repeats the same requests. Reads take
    None: QuickBooks answers a repeated requestid with its first answer, which for a read is
    what the books held then, not now."""
    bids = [item.bid for item in items]
    if len(set(bids)) != len(bids):
        raise ValueError("every batch item needs its own bId, across the whole list")
    answers: dict[str, Answer] = {}
    for number, start in enumerate(range(0, len(items), MAX_ITEMS)):
        body = request_body(items[start:start + MAX_ITEMS])
        answers.update(send(api, body, chunk_request_id(request_id, number)))
    return answers
