"""The month close's invoices, created in QuickBooks 30 to a batch call, never twice.

A batch is recorded (``qbo_batch``: its body and its ``requestid``) in the same transaction
that claims its clients' sessions, and only then sent. Its answer is recorded per item: a
created invoice gets its link (as ``invoices.push`` writes it) and its sessions are billed; an
item QuickBooks refused releases its sessions for the next close. If the answer never comes
(a timeout, a dropped connection, a worker killed), the batch stays recorded and is sent again,
byte for byte with the same ``requestid``, before anything new is planned: QuickBooks answers
as the first time instead of writing again. Should a resend come back with a fault anyway (one
report saw a replay answered with fault 6000), the item is looked for in QuickBooks by its
marker before its sessions are released (``marked_invoices``). Emailing a created invoice is a
call of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, or_, select, update

from hub import Context
from hub.builtin.quickbooks import batch, faults, invoices, marked_invoices
from hub.builtin.quickbooks.api import Api, calling
from hub.builtin.quickbooks.client import TIMEOUT
from hub.builtin.quickbooks.models import QboBatch, QboBookingSession
from hub.builtin.quickbooks.settings import Settings
from hub.clock import utcnow
from hub.errors import DeliveryError, NeedsOperator
from hub.events import Invoice

if TYPE_CHECKING:
    from hub import Context

BATCHES = QboBatch.__table__  # type: ignore[attr-defined]
SESSIONS = QboBookingSession.__table__  # type: ignore[attr-defined]
# How long a batch being sent is left to its sender: past the call's own timeout, the sender
# has given up or died, and another close may send it again.
LEASE = timedelta(seconds=2 * TIMEOUT)


@dataclass
class Closed:
    """One client's month: billed, or why not (then its sessions wait for the next close)."""

    client: str
    invoice_external_id: str
    sessions: int
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Planned:
    """One client's invoice, its customer found or made, ready to go in a batch."""

    client: str
    invoice: Invoice
    bookings: list[str]
    body: dict[str, Any]
    notes: list[str]


class Taken(Exception):
    """Another close claimed some of these sessions first."""


def context(ctx: Context, settings: Settings, external_id: str) -> Context:
    """The context of one client's invoice in a month's close (``Context.part``)."""
    return ctx.part(external_id, "billing.close-month", "billing", settings)


def unfinished(ctx: Context, purpose: str | None = None) -> list[dict[str, Any]]:
    """Batches not done, oldest first (all of them, or those for ``purpose``)."""
    query = select(BATCHES).where(BATCHES.c.status != "done")
    if purpose is not None:
        query = query.where(BATCHES.c.purpose == purpose)
    with ctx.reading() as conn:
        return [dict(r) for r in conn.execute(
            query.order_by(BATCHES.c.created_at, BATCHES.c.request_id)).mappings()]


def record(ctx: Context, purpose: str, realm_id: str, planned: list[Planned],
           send_emails: bool) -> dict[str, Any]:
    """Write the batch down and claim its sessions, in one transaction, before it is sent."""
    body = batch.request_body([batch.Write(str(n), "Invoice", "create", p.body)
                               for n, p in enumerate(planned, start=1)])
    text = json.dumps(body, default=str)
    now = utcnow()
    # A new plan is a new request (a refused item replanned must not replay its refusal); a
    # resend reads this id back from the row, never works it out again.
    rid = ctx.write_key(realm_id, "batch", purpose, now.isoformat(), text)[:batch.MAX_REQUEST_ID]
    items = {str(n): {"client": p.client, "invoice": p.invoice.model_dump(mode="json"),
                      "bookings": p.bookings, "digest": invoices.digest(p.body),
                      "send": send_emails, "state": "planned", "notes": p.notes}
             for n, p in enumerate(planned, start=1)}
    row = dict(request_id=rid, purpose=purpose, body=text, items=json.dumps(items),
               status="planned", sending_until=now + LEASE, created_at=now, updated_at=now)

    def write(conn: Connection) -> None:
        for p in planned:
            claimed = conn.execute(update(SESSIONS).where(
                SESSIONS.c.booking_id.in_(p.bookings), SESSIONS.c.status == "pending",
                SESSIONS.c.invoice_external_id.is_(None)).values(
                invoice_external_id=p.invoice.external_id, updated_at=now)).rowcount
            if claimed != len(p.bookings):
                raise Taken(p.client)
        conn.execute(insert(BATCHES).values(**row))

    ctx.write(write)
    return row


def finish(ctx: Context, settings: Settings, row: dict[str, Any],
           fresh: bool = False) -> tuple[list[Closed], bool]:
    """Send a recorded batch (again, unless ``fresh``: then it was just recorded and is this
    process's to send), record its answer, email what was created. Returns each client's
    outcome and whether the batch is settled (False: its answer is still unknown)."""
    items: dict[str, dict[str, Any]] = json.loads(row["items"])
    rid = str(row["request_id"])
    if row["status"] == "planned":
        if not fresh and not _take_lease(ctx, rid):
            return _outcomes(items, "not billed yet: another process is sending this client's "
                             "invoice to QuickBooks right now; close the month again in a "
                             "minute"), False
        try:
            with calling(ctx) as api:
                try:
                    answers = batch.send(api, str(row["body"]), rid)
                except faults.Fault as exc:
                    # The batch as a whole refused (nothing in it carried out by this call).
                    answers = {bid: batch.Answer(bid, fault=exc) for bid in items}
                if not fresh:
                    answers = _found_anyway(api, str(row["body"]), items, answers)
        except DeliveryError as exc:
            # No answer (it may have been carried out), throttled, or the token refused: the
            # same batch goes again, same requestid, before anything new is planned.
            ctx.write(lambda conn: conn.execute(update(BATCHES).where(
                BATCHES.c.request_id == rid).values(sending_until=None, updated_at=utcnow())))
            return _outcomes(items, f"not billed yet: {exc}. The same batch is sent again on "
                             "the next close, so nothing is written twice"), False
        _record_answer(ctx, settings, rid, items, answers)
    _email(ctx, settings, rid, items)
    return _outcomes(items), True


def _found_anyway(api: Api, body: str, items: dict[str, dict[str, Any]],
                  answers: dict[str, batch.Answer]) -> dict[str, batch.Answer]:
    """A resent batch's items that did not come back created, looked for in QuickBooks.

    The batch may have been written the first time; Intuit documents that the resend is then
    answered as the first time, but a replay answered with a fault has been reported, and
    releasing such an item would bill its client twice. An item found by its marker counts as
    created; one not found is refused as answered. A failed look-up raises like the send did,
    so the batch stays unanswered and is resent, never released on a guess."""
    unsure = [bid for bid, answer in answers.items()
              if answer.fault is not None or answer.value is None]
    if not unsure:
        return answers
    sent = {str(entry.get("bId")): entry.get("Invoice") or {}
            for entry in json.loads(body).get("BatchItemRequest") or []}
    looked_for = {bid: marked_invoices.wanted(items[bid]["invoice"]["external_id"],
                                              sent.get(bid) or {}) for bid in unsure}
    found = marked_invoices.find(api, looked_for.values())
    out = dict(answers)
    for bid, wanted in looked_for.items():
        saved = found.get(wanted.external_id)
        if saved is None:
            continue
        answered = answers[bid].fault
        items[bid]["notes"] = [*items[bid]["notes"], (
            f"QuickBooks answered the resent batch with {_said(answered)} for this invoice, but "
            f"had created it the first time: invoice {saved['Id']} found by its marker")]
        out[bid] = batch.Answer(bid, value=saved)
    return out


def _said(fault: faults.QboError | None) -> str:
    if fault is None:
        return "no invoice"
    return f"a fault (code {fault.code})" if fault.code else "a fault"


def _take_lease(ctx: Context, rid: str) -> bool:
    now = utcnow()
    return bool(ctx.write(lambda conn: conn.execute(update(BATCHES).where(
        BATCHES.c.request_id == rid, BATCHES.c.status == "planned",
        or_(BATCHES.c.sending_until.is_(None), BATCHES.c.sending_until < now))
        .values(sending_until=now + LEASE, updated_at=now)).rowcount))


def _refusal(fault: faults.QboError) -> str:
    if isinstance(fault, faults.Fault):
        # As a refused single create reads (api.calling), so the operator sees one wording.
        return (f"QuickBooks refused the change: {fault} (code {fault.code}). Fix it in the "
                "host or in QuickBooks, then retry.")
    return f"{fault}; billed on the next close"


def _record_answer(ctx: Context, settings: Settings, rid: str, items: dict[str, dict[str, Any]],
                   answers: dict[str, batch.Answer]) -> None:
    for bid, item in items.items():
        answer = answers[bid]
        saved = answer.value
        if answer.fault is not None or saved is None:
            item.update(state="refused", error=_refusal(
                answer.fault or faults.Fault("QuickBooks answered without the invoice")))
            continue
        invoice = Invoice.model_validate(item["invoice"])
        ctx = context(ctx, settings, invoice.external_id)
        ctx.note(f"Invoice {saved['Id']} (#{saved.get('DocNumber', '-')}) created")
        invoices.remember(ctx, invoice, saved, item["digest"])
        item.update(state="created" if item["send"] else "done", qbo_id=str(saved["Id"]),
                    notes=[*item["notes"], *ctx.notes])
    now = utcnow()

    def write(conn: Connection) -> None:
        for item in items.values():
            ids, external_id = item["bookings"], item["invoice"]["external_id"]
            if item["state"] == "refused":  # billable again on the next close
                conn.execute(update(SESSIONS).where(
                    SESSIONS.c.booking_id.in_(ids), SESSIONS.c.status != "billed",
                    SESSIONS.c.invoice_external_id == external_id).values(
                    invoice_external_id=None, updated_at=now))
            else:
                conn.execute(update(SESSIONS).where(SESSIONS.c.booking_id.in_(ids)).values(
                    status="billed", invoice_external_id=external_id, updated_at=now))
        _save(conn, rid, items, now)

    ctx.write(write)


def _save(conn: Connection, rid: str, items: dict[str, dict[str, Any]], now: Any) -> None:
    settled = all(item["state"] in ("done", "refused") for item in items.values())
    conn.execute(update(BATCHES).where(BATCHES.c.request_id == rid).values(
        items=json.dumps(items), status="done" if settled else "created", sending_until=None,
        updated_at=now))


def _email(ctx: Context, settings: Settings, rid: str, items: dict[str, dict[str, Any]]) -> None:
    """QuickBooks emails each created invoice (send_invoices): one call each, its own
    requestid, so a resend after a crash is answered from QuickBooks' memory."""
    waiting = [item for item in items.values() if item["state"] == "created"]
    if not waiting:
        return
    stopped: str | None = None  # QuickBooks down or throttled: the rest wait too
    for item in waiting:
        ctx = context(ctx, settings, item["invoice"]["external_id"])
        try:
            if stopped is None:
                with calling(ctx) as api:
                    invoices.send(ctx, api, item["qbo_id"])
        except NeedsOperator as exc:
            item.update(state="done", error=f"invoice {item['qbo_id']} was created in "
                        f"QuickBooks, but it did not email it: {exc}")
            continue
        except DeliveryError as exc:
            stopped = str(exc)
        if stopped is not None:
            item["error"] = (f"invoice {item['qbo_id']} was created in QuickBooks; emailing it "
                             f"waits for the next close: {stopped}")
            continue
        item.pop("error", None)
        item.update(state="done", notes=[*item["notes"], *ctx.notes])
    ctx.write(lambda conn: _save(conn, rid, items, utcnow()))


def _outcomes(items: dict[str, dict[str, Any]], error: str | None = None) -> list[Closed]:
    return [Closed(item["client"], item["invoice"]["external_id"], len(item["bookings"]),
                   error or item.get("error"), list(item.get("notes") or []))
            for item in items.values()]
