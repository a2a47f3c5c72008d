"""Calls to the Accounting API through python-quickbooks, with every failure turned into the
right delivery outcome: throttled or down → retried later, a refused token → refreshed and
retried, a business fault → shown to the operator with QuickBooks' own words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hub.builtin.quickbooks import connection, faults, oauth
from hub.builtin.quickbooks.client import make_client
from hub.errors import NeedsOperator, RetryLater

if TYPE_CHECKING:
    from hub import Context


#: Voided by a sparse update with ``include=void``, as Intuit's reference documents for these
#: two (an invoice takes ``?operation=void``), and as python-quickbooks' ``VoidMixin`` sends.
VOIDED_BY_UPDATE = frozenset({"Payment", "SalesReceipt"})


def quote(value: str) -> str:
    """A string literal for Intuit's query language (quotes escaped with a backslash)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Api:
    def __init__(self, ctx: Context, access: connection.Access) -> None:
        self.ctx = ctx
        self.company = access.company
        self.realm_id = access.realm_id
        self.qb = make_client(oauth.api_base(ctx.config, access.environment), access.realm_id,
                              access.access_token, ctx)

    def query(self, entity: str, where: str = "", tail: str = "") -> list[dict[str, Any]]:
        sql = f"SELECT * FROM {entity}" + (f" WHERE {where}" if where else "") + \
            (f" {tail}" if tail else "")
        answer = self.qb.query(sql)
        return list((answer.get("QueryResponse") or {}).get(entity, []))

    def read(self, entity: str, qbo_id: str) -> dict[str, Any]:
        return dict(self.qb.get_single_object(entity, qbo_id)[entity])

    def create(self, entity: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        answer = self.qb.create_object(entity, json.dumps(body, default=str),
                                       request_id=request_id)
        return dict(answer[entity])

    def update(self, entity: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        answer = self.qb.update_object(entity, json.dumps(body, default=str),
                                       request_id=request_id)
        return dict(answer[entity])

    def operation(self, entity: str, qbo_id: str, op: str, request_id: str,
                  sync_token: str | None = None) -> dict[str, Any]:
        """``void`` or ``delete`` (POST ?operation=), or ``send`` (POST /{id}/send)."""
        base = f"{self.qb.api_url}/company/{self.realm_id}/{entity.lower()}"
        if op == "send":
            answer = self.qb.make_request("POST", f"{base}/{qbo_id}/send",
                                          content_type="application/octet-stream",
                                          request_id=request_id)
        elif op == "void" and entity in VOIDED_BY_UPDATE:
            answer = self.qb.make_request(
                "POST", base, json.dumps({"Id": qbo_id, "SyncToken": sync_token,
                                          "sparse": True}),
                params={"operation": "update", "include": "void"}, request_id=request_id)
        else:
            answer = self.qb.make_request(
                "POST", base, json.dumps({"Id": qbo_id, "SyncToken": sync_token}),
                params={"operation": op}, request_id=request_id)
        return dict(answer.get(entity) or {})

    def request_id(self, *parts: str) -> str:
        """Intuit's ``requestid`` (≤ 50 characters) for one write: the hub's one rule for
        outside writes (``Context.write_key``), its subject the company and ``parts`` the host
        object and the content or state the write starts from, never the delivery. A retry, a
        replay under a new event id, an operator's retry after a park: each repeats it, so
        QuickBooks answers with the first result instead of writing twice."""
        return self.ctx.write_key(self.realm_id, *parts)

    def close(self) -> None:
        self.qb.session.finish()  # the session, and its connection, serve the next delivery


@contextmanager
def calling(ctx: Context) -> Iterator[Api]:
    """An Api for one delivery; failures leave as RetryLater, NeedsOperator, Hold or Skip."""
    api = Api(ctx, connection.access(ctx))
    try:
        yield api
    except faults.Throttled as exc:
        # Intuit says wait a minute: waiting is not failing, and nothing else should try first.
        raise RetryLater(str(exc), timedelta(seconds=60), spend_attempt=False,
                         pause_plugin=True) from None
    except faults.Unavailable as exc:
        raise RetryLater(str(exc)) from None
    except faults.AuthFailed as exc:
        # Expired early or revoked: refresh now (a refused refresh holds the work instead).
        connection.refresh(ctx, force=True)
        raise RetryLater(f"{exc}; token refreshed, trying again", timedelta(seconds=1)) \
            from None
    except faults.Fault as exc:
        raise NeedsOperator(f"QuickBooks refused the change: {exc} (code {exc.code}). Fix it "
                            "in the host or in QuickBooks, then retry.") from None
    finally:
        api.close()
