"""Routing one accounting operation (entity + operation + body) to the code that does it.
Shared by the REST endpoints and by batch items."""

from __future__ import annotations

from typing import Any

from . import entities, faults, query, transactions
from .context import Ctx
from .entities import NAME_LISTS, READ_ONLY, SINGLETONS, TRANSACTIONS
from .store import public, table

ENTITY_BY_LOWER = {
    name.lower(): name for name in NAME_LISTS + TRANSACTIONS + SINGLETONS + READ_ONLY
}


def entity_from_path(segment: str) -> str:
    entity = ENTITY_BY_LOWER.get(segment.lower())
    if entity is None:
        raise faults.QBOFault(
            4001,
            "Unsupported entity",
            f"The emulator does not implement the {segment} entity",
            status=400,
        )
    return entity


def read(ctx: Ctx, entity: str, ident: str | None) -> dict[str, Any]:
    if entity in SINGLETONS:
        obj = entities.singleton(ctx, entity)
        if entity == "CompanyInfo" and ident not in (None, obj["Id"]):
            raise faults.not_found(entity, ident or "")
        return {entity: public(obj)}
    return {entity: public(entities.find(ctx, entity, ident or ""))}


def write(ctx: Ctx, entity: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """operation is create, update, delete or void (Intuit's names)."""
    if entity in READ_ONLY:
        raise faults.unsupported(operation, entity)
    if entity in SINGLETONS:
        if operation != "update":
            raise faults.unsupported(operation, entity)
        return {entity: public(entities.update_singleton(ctx, entity, body))}
    if entity in NAME_LISTS:
        if operation == "create":
            return {entity: public(entities.create_name(ctx, entity, body))}
        if operation == "update":
            return {entity: public(entities.update_name(ctx, entity, body))}
        # Name-list records are never deleted in QuickBooks; clients set Active to false.
        raise faults.unsupported(operation, entity)
    if operation == "delete":
        return {entity: transactions.delete(ctx, entity, body)}
    if operation == "void":
        return {entity: public(transactions.void(ctx, entity, body))}
    if entity == "Payment":
        if operation == "create":
            return {entity: public(transactions.create_payment(ctx, body))}
        return {entity: public(transactions.update_payment(ctx, body))}
    if operation == "create":
        return {entity: public(transactions.create_sales_form(ctx, entity, body))}
    return {entity: public(transactions.update_sales_form(ctx, entity, body))}


def post_operation(entity: str, args: dict[str, str], body: dict[str, Any]) -> str:
    """Work out the operation from Intuit's query parameters and the body."""
    operation = (args.get("operation") or "").lower()
    include = (args.get("include") or "").lower()
    if operation == "delete":
        return "delete"
    if operation == "void" or (operation == "update" and include == "void"):
        if entity not in ("Invoice", "Payment", "SalesReceipt"):
            raise faults.unsupported("void", entity)
        if entity == "Invoice" and operation != "void":
            raise faults.unsupported("update&include=void", entity)
        if entity != "Invoice" and operation == "void":
            raise faults.unsupported("void", entity)
        return "void"
    if entity in SINGLETONS:
        return "update"
    return "update" if body.get("Id") not in (None, "") else "create"


def run_query(ctx: Ctx, text: str) -> dict[str, Any]:
    if not text.strip():
        raise faults.required("query")
    parsed = query.parse(text, ENTITY_BY_LOWER)
    objects = list(table(ctx.company, parsed.entity).values())
    rows = query.run(parsed, objects, name_list=parsed.entity in NAME_LISTS)
    if parsed.count:
        return {"totalCount": len(rows)}
    page = rows[parsed.start - 1 : parsed.start - 1 + parsed.max_results]
    if not page:
        return {}
    return {
        parsed.entity: [public(query.project(obj, parsed.fields)) for obj in page],
        "startPosition": parsed.start,
        "maxResults": len(page),
    }
