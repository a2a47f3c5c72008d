"""`/batch`: up to 30 operations in one call, each answered on its own (an item's fault does
not undo the others, as with Intuit).

A `requestid` on a batch is replayed like any other (the whole answer, by api.handle). Intuit
documents tighter limits for it: at most 36 characters, and then at most 10 for each `bId`,
because it keys each item by the two joined (≤ 50 characters); longer ones fault per item."""

from __future__ import annotations

from typing import Any

from . import faults, operations
from .clock import response_time
from .context import Ctx

MAX_ITEMS = 30
MAX_REQUEST_ID = 36  # a batch's requestid, per Intuit
MAX_BID = 10  # each bId, when the batch carries a requestid


def savepoint(ctx: Ctx) -> dict[str, Any]:
    """Cheap: tables are copied shallowly, which is enough because every change replaces the
    stored object (new objects, or copies made by store.editable) instead of mutating it."""
    company = ctx.company
    return {
        "entities": {name: dict(objects) for name, objects in company["entities"].items()},
        "tombstones": list(company["tombstones"]),
        "next_id": company["next_id"],
        "next_doc_number": company["next_doc_number"],
        "changes": len(ctx.changes),
    }


def rollback(ctx: Ctx, saved: dict[str, Any]) -> None:
    for key, value in saved.items():
        if key != "changes":
            ctx.company[key] = value
    del ctx.changes[saved["changes"] :]


def run_item(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    if "Query" in item:
        return {"QueryResponse": operations.run_query(ctx, str(item["Query"]))}
    operation = str(item.get("operation", "")).lower()
    if operation not in ("create", "update", "delete"):
        raise faults.required("operation")
    names = [key for key in item if key not in ("bId", "operation", "optionsData")]
    if len(names) != 1:
        raise faults.required("BatchItemRequest entity")
    entity = operations.entity_from_path(names[0])
    body = item[names[0]]
    if not isinstance(body, dict):
        raise faults.required(entity)
    return operations.write(ctx, entity, operation, body)


def id_too_long(request_id: str, bid: Any) -> faults.QBOFault:
    return faults.business(
        f"You cannot enter more than 50 characters in the request_id field. A batch requestid "
        f"may have at most {MAX_REQUEST_ID} characters and each bId at most {MAX_BID} "
        f"(you sent {len(request_id)} and {len(str(bid or ''))})"
    )


def run_batch(ctx: Ctx, body: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
    items = body.get("BatchItemRequest")
    if not isinstance(items, list) or not items:
        raise faults.required("BatchItemRequest")
    if len(items) > MAX_ITEMS:
        raise faults.QBOFault(
            1040,
            "Batch size exceeds allowed limit",
            f"The batch size of {len(items)} exceeds the allowed limit of {MAX_ITEMS}",
        )
    responses = []
    for item in items:
        bid = item.get("bId") if isinstance(item, dict) else None
        saved = savepoint(ctx)
        try:
            if not isinstance(item, dict):
                raise faults.required("BatchItemRequest")
            if request_id and (
                len(request_id) > MAX_REQUEST_ID or len(str(bid or "")) > MAX_BID
            ):
                raise id_too_long(request_id, bid)
            responses.append({"bId": bid} | run_item(ctx, item))
        except Exception as exc:
            rollback(ctx, saved)
            fault = exc if isinstance(exc, faults.QBOFault) else faults.malformed(exc)
            responses.append({"bId": bid, "Fault": fault.fault()})
    return {"BatchItemResponse": responses, "time": response_time()}
