"""Change data capture: every object of the named entities changed since a moment within the
last 30 days, deleted ones as `status: Deleted`, at most 1,000 objects.

Intuit says an answer holds at most 1,000 objects and not which it leaves out of a fuller one:
`keeps` chooses, "oldest" (the oldest changes, as a cursor walking forward would hope) or
"newest" (the newest, the order that loses changes for such a cursor)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from . import faults, operations
from .clock import now, parse_timestamp, response_time
from .context import Ctx
from .store import public, table

MAX_OBJECTS = 1000
LOOKBACK = timedelta(days=30)
KEEPS = ("oldest", "newest")


def run_cdc(
    ctx: Ctx, entity_list: str | None, changed_since: str | None, keeps: str = "oldest"
) -> dict[str, Any]:
    if not entity_list:
        raise faults.required("entities")
    if not changed_since:
        raise faults.required("changedSince")
    try:
        since = parse_timestamp(changed_since)
    except ValueError:
        raise faults.invalid_value(
            "changedSince", f"Invalid changedSince: {changed_since}"
        ) from None
    if since < now() - LOOKBACK:
        raise faults.invalid_value(
            "changedSince", "changedSince can't be more than 30 days in the past"
        )
    wanted = [
        operations.entity_from_path(name.strip()) for name in entity_list.split(",") if name.strip()
    ]
    found: list[tuple[float, str, dict[str, Any]]] = []
    for entity in wanted:
        for obj in table(ctx.company, entity).values():
            if parse_timestamp(obj["MetaData"]["LastUpdatedTime"]) >= since:
                found.append((obj.get("_updated_epoch", 0.0), entity, public(obj)))
        for tomb in ctx.company["tombstones"]:
            if tomb["entity"] == entity and parse_timestamp(tomb["LastUpdatedTime"]) >= since:
                found.append(
                    (
                        tomb["epoch"],
                        entity,
                        {
                            "domain": "QBO",
                            "status": "Deleted",
                            "Id": tomb["Id"],
                            "MetaData": {"LastUpdatedTime": tomb["LastUpdatedTime"]},
                        },
                    )
                )
    found.sort(key=lambda row: row[0])
    kept = found[-MAX_OBJECTS:] if keeps == "newest" else found[:MAX_OBJECTS]
    responses = []
    for entity in wanted:
        objects = [obj for _, name, obj in kept if name == entity]
        if objects:
            responses.append(
                {
                    entity: objects,
                    "startPosition": 1,
                    "maxResults": len(objects),
                    "totalCount": len(objects),
                }
            )
        else:
            responses.append({})
    return {"CDCResponse": [{"QueryResponse": responses}], "time": response_time()}
