"""`/v3/company/{realmId}/...`: faults on command, auth, throttling, idempotency, then the work.

Order matters and mirrors what a client meets at Intuit: an outage answers before anything
is checked; an unauthenticated call is refused before it counts against the throttle; a
replayed `requestid` answers from memory and changes nothing.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from typing import Any

from flask import Blueprint, Response, current_app, request

from . import entities, faults, operations, transactions
from .batch import rollback, run_batch, savepoint
from .cdc import run_cdc
from .clock import response_time
from .context import Ctx
from .oauth import bearer_status
from .state import EmulatorState
from .store import public, remember_answer, stored_answer

bp = Blueprint("qbo_api", __name__)
log = logging.getLogger(__name__)
JSON = "application/json;charset=UTF-8"
# A one-page PDF so download_pdf() gets bytes that look like a document.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]"
    b"/Count 1>>endobj 3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def state() -> EmulatorState:
    return current_app.extensions["qbo_emulator"]  # type: ignore[no-any-return]


def json_response(body: Any, status: int = 200) -> Response:
    text = body if isinstance(body, str) else json.dumps(body)
    response = Response(text, status=status, mimetype="application/json")
    response.headers["Content-Type"] = JSON
    return response


def injected_failure(status: int) -> Response:
    if status == 503:
        # Intuit's edge answers 503 with an HTML page, not a Fault.
        return Response(
            "<html><body><h1>503 Service Unavailable</h1></body></html>",
            status=503,
            mimetype="text/html",
        )
    fault = faults.server_error()
    fault.status = status
    return json_response(fault.body(), status)


def parse_body() -> dict[str, Any]:
    text = request.get_data(as_text=True)
    if not text.strip():
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        raise faults.QBOFault(
            2010,
            "Request has invalid or unsupported property",
            "Request body could not be parsed as JSON",
        ) from None
    if not isinstance(body, dict):
        raise faults.QBOFault(
            2010, "Request has invalid or unsupported property", "Request body must be an object"
        )
    return body


def dispatch(ctx: Ctx, rest: str) -> dict[str, Any] | bytes:
    parts = [p for p in rest.split("/") if p]
    head = parts[0].lower() if parts else ""
    args = request.args
    if head == "query":
        text = args.get("query") if request.method == "GET" else request.get_data(as_text=True)
        return {"QueryResponse": operations.run_query(ctx, text or ""), "time": response_time()}
    if head == "batch" and request.method == "POST":
        return run_batch(ctx, parse_body(), args.get("requestid"))
    if head == "cdc":
        keeps = state().config.cdc_keeps
        return run_cdc(ctx, args.get("entities"), args.get("changedSince"), keeps)
    if head == "exchangerate" and request.method == "GET":
        rate = entities.exchange_rate(ctx, args.get("sourcecurrencycode"), args.get("asofdate"))
        return rate | {"time": response_time()}
    entity = operations.entity_from_path(head)
    if request.method == "GET":
        if len(parts) == 3 and entity == "Invoice" and parts[2] == "pdf":
            operations.read(ctx, entity, parts[1])
            return PDF
        body = operations.read(ctx, entity, parts[1] if len(parts) > 1 else None)
        return body | {"time": response_time()}
    if len(parts) == 3 and entity == "Invoice" and parts[2] == "send":
        invoice = transactions.send(ctx, parts[1], args.get("sendTo"))
        return {"Invoice": public(invoice), "time": response_time()}
    if len(parts) != 1:
        raise faults.unsupported(request.method, rest)
    body = parse_body()
    operation = operations.post_operation(entity, dict(args), body)
    return operations.write(ctx, entity, operation, body) | {"time": response_time()}


@bp.route("/v3/company/<realm>/<path:rest>", methods=["GET", "POST"])
def endpoint(realm: str, rest: str) -> Response:
    emulator = state()
    failure = emulator.switches.take_failure()
    if failure is not None:
        return injected_failure(failure)
    with emulator.store.lock:
        verdict, detail = bearer_status(realm)
    if verdict == "unauthorized":
        response = json_response(faults.auth_failed_body(detail or ""), 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="Intuit", error="invalid_token"'
        return response
    if verdict == "forbidden" or emulator.store.company(realm) is None:
        fault = faults.QBOFault(
            3100,
            "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
            detail or "Unknown company",
            status=403,
            fault_type="SECURITY",
        )
        return json_response(fault.body(), 403)
    what = rest.strip("/").split("/")[0].lower()
    # Past the month's allowance a read is refused as a throttled call (Intuit documents only
    # "an HTTP 429"); it does not take a place in the minute. Writes go on.
    reads = reads_in(what)
    if not emulator.throttle.take_reads(reads):
        return json_response(faults.throttled().body(), 429)
    if not emulator.throttle.acquire(realm, batch=what == "batch"):
        emulator.throttle.take_reads(-reads)  # not served: not metered
        return json_response(faults.throttled().body(), 429)
    try:
        # Latency is spent holding a concurrency slot, as a slow Intuit request does.
        latency = emulator.switches.latency + emulator.switches.take_delay(what)
        if latency > 0:
            time.sleep(latency)
        response = handle(emulator, realm, rest)
    finally:
        emulator.throttle.release(realm)
    if emulator.switches.take_drop(what):
        drop_connection()
    return response


def reads_in(what: str) -> int:
    """How many metered reads (CorePlus calls) this request is: a GET or a query one, a batch
    one per query it carries (the emulator's reading: Intuit does not say), a write none."""
    if request.method == "GET" or what == "query":
        return 1
    if what == "batch":
        try:
            items = json.loads(request.get_data(as_text=True)).get("BatchItemRequest") or []
        except (ValueError, AttributeError):
            return 0
        return sum(1 for item in items if isinstance(item, dict) and "Query" in item)
    return 0


def handle(emulator: EmulatorState, realm: str, rest: str) -> Response:
    request_id = request.args.get("requestid") if request.method == "POST" else None
    store = emulator.store
    with store.lock:
        company = store.company(realm)
        assert company is not None
        if request_id:
            remembered = stored_answer(company, request_id)
            if remembered is not None:
                if emulator.switches.replay_faults:
                    return replay_fault(rest)
                return json_response(remembered["body"], remembered["status"])
        ctx = Ctx(company)
        saved = savepoint(ctx) if request.method == "POST" else None
        try:
            result = dispatch(ctx, rest)
            status = 200
        except Exception as exc:
            if saved is not None:
                rollback(ctx, saved)
            if not isinstance(exc, faults.QBOFault):
                log.warning("request could not be processed", exc_info=True)
                exc = faults.malformed(exc)
            result, status = exc.body(), exc.status
        if isinstance(result, bytes):
            return Response(result, mimetype="application/pdf")
        text = json.dumps(result)
        if request_id:
            remember_answer(company, request_id, status, text)
        if ctx.changes or request_id:  # python-quickbooks POSTs its queries: no save for those
            store.save()
    if ctx.changes and emulator.webhooks is not None and emulator.config.notify_api_changes:
        emulator.webhooks.announce(realm, ctx.changes)
    return json_response(text, status)


def replay_fault(rest: str) -> Response:
    """The hostile answer to a repeated `requestid` (Switches.replay_faults): a generic 6000,
    for a batch on every item, as one report of Intuit describes; nothing is written."""
    fault = faults.business(
        "An unexpected error occurred while accessing or saving your data. Please wait a few "
        "minutes and try again. If the problem persists, contact customer support."
    )
    if rest.strip("/").lower() != "batch":
        return json_response(fault.body(), fault.status)
    try:
        items = json.loads(request.get_data(as_text=True)).get("BatchItemRequest") or []
    except (ValueError, AttributeError):
        items = []
    bids = [item.get("bId") for item in items if isinstance(item, dict)]
    if not bids:
        return json_response(fault.body(), fault.status)
    return json_response(
        {"BatchItemResponse": [{"bId": bid, "Fault": fault.fault()} for bid in bids],
         "time": response_time()}
    )


def drop_connection() -> None:
    """The change is committed; now close the socket so the client never hears the answer."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
