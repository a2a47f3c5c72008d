"""Reconcile's fixes, applied by the ``reconcile-work`` job: a stored delivery like any other
(retried, shown in Activity, each fix noted), asked for by ``hub quickbooks reconcile --fix``
and the Reconcile page's buttons, which only store what was asked (``reconcile_store``).

Every fix writes what the host says, or what the hub itself wrote, or only tells the host;
each goes through the hub's own writing paths (``invoices.push``, ``customers.sync``), which
are idempotent: a fix applied twice writes once. A deleted invoice is created again with the
hub's marker, looked for by it first, under a ``requestid`` naming the deleted one (the first
create's would be answered with the deleted invoice); a deleted sales receipt likewise.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import update

from hub import Context
from hub.builtin.quickbooks import (
    customers,
    invoices,
    links,
    marked_invoices,
    mirror,
    payments,
    receipts,
    reconcile,
)
from hub.builtin.quickbooks import reconcile_store as store
from hub.builtin.quickbooks.api import calling
from hub.builtin.quickbooks.customers import CURRENCY_MARK
from hub.builtin.quickbooks.reconcile_findings import TELLS_HOST, Report
from hub.clock import utcnow
from hub.errors import Hold, NeedsOperator, RetryLater, Skip
from hub.events import Contact, Invoice, Payment


def work(ctx: Context) -> None:
    """The ``reconcile-work`` job: the fixes asked for, then any check asked for."""
    fixes = store.waiting_fixes(ctx)
    runs = store.asked_runs(ctx)
    if not fixes and not runs:
        raise Skip("no reconcile check or fix asked for")
    failed = []
    for number, row in enumerate(fixes):
        ctx.progress(number, len(fixes), "reconcile: fixes applied")
        finding, action = row["finding"], row["action"]
        before = len(ctx.notes)
        try:
            said = apply(ctx, finding, action)
            status = "done"
        except (RetryLater, Hold):
            raise  # the job is tried again; what is done stays done
        except Skip as exc:
            said, status = f"nothing to do: {exc}", "done"
        except NeedsOperator as exc:
            said, status = str(exc), "failed"
            failed.append(f"{finding['subject']} ({finding['kind']}): {exc}")
        store.finish_fix(ctx, finding["id"], action, status, said)
        # What the fix noted on the way is in ``said``: said once, under the finding's name.
        del ctx.notes[before:]
        ctx.note(f"{finding['subject']} {finding['kind']}: {said}")
    if fixes:
        ctx.progress(len(fixes), len(fixes), "reconcile: fixes applied")
    for run in runs:
        check(ctx, run["pk"], run["since"])
    if failed:
        raise NeedsOperator(f"{len(failed)} reconcile fixes could not be applied: "
                            + "; ".join(failed) + ". Fix them in QuickBooks or the host, then "
                            "retry")


def check(ctx: Context, pk: int | None, since: date | None) -> Report:
    """A reconcile run, stored; its progress shown on the delivery."""
    pk = store.start_run(ctx, pk, since)
    try:
        report = reconcile.run(ctx, since, ctx.progress)
    except Exception as exc:
        store.finish_run(ctx, pk, None, str(exc))
        raise
    store.finish_run(ctx, pk, report)
    ctx.note(summary(report))
    return report


def summary(report: Report) -> str:
    counts: dict[str, int] = {}
    for f in report.findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    found = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "nothing to fix"
    checked = report.checked
    return (f"reconcile: {checked.get('invoices', 0)} invoices, {checked.get('contacts', 0)} "
            f"contacts, {checked.get('payments', 0)} payments checked ({report.reads} reads): "
            f"{found}")


def scheduled_check(ctx: Context) -> None:
    """The ``reconcile`` job (every ``reconcile_days``): check, and tell the host a summary
    (``reconcile.summary``), once per run."""
    from hub.builtin.quickbooks import connection

    state = connection.status(ctx)["status"]
    if state != "connected":
        raise Skip(f"QuickBooks is {state.replace('_', ' ')}: nothing to reconcile")
    report = check(ctx, None, None)
    counts: dict[str, int] = {}
    for f in report.findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    ctx.notify_host("reconcile.summary", {
        "checked": report.checked, "reads": report.reads, "counts": counts,
        "findings": [{"kind": f.kind, "subject": f.subject, "host_says": f.host_says,
                      "quickbooks_says": f.quickbooks_says, "fix": f.fix, "safe": f.safe}
                     for f in report.findings[:200]],
        "more": max(0, len(report.findings) - 200),
    }, key=f"reconcile:{ctx.event_id}")


def ask(ctx: Context, findings: list[dict[str, Any]], action: str = "fix") -> int:
    """Store the fixes asked for (findings as ``Finding.as_json`` gives them) and have the job
    apply them soon; how many are new. Asking again for one asked already adds nothing."""
    new = store.ask_fixes(ctx, findings, action)
    if new:
        ctx.run_job("reconcile-work")
    return new


def ask_ids(ctx: Context, ids: list[str], action: str = "fix") -> int:
    """``ask`` for findings of the last run, by id (the Reconcile page's buttons); "safe"
    stands for every safe finding of it (Fix all safe ones)."""
    last = store.latest_run(ctx)
    findings = (last or {}).get("report", {}).get("findings", []) if last else []
    chosen = [f for f in findings if f["id"] in ids or ("safe" in ids and f["safe"])]
    if action == "accept":
        chosen = [f for f in chosen if f.get("accept")]
    return ask(ctx, chosen, action) if chosen else 0


def forget_written(ctx: Context, kind: str, external_id: str) -> None:
    """The link's digest says what the hub last wrote; QuickBooks no longer holds that, so it
    is forgotten and the host's version is written again (not "already up to date")."""
    table = links.TABLE
    ctx.write(lambda conn: conn.execute(update(table).where(
        table.c.kind == kind, table.c.external_id == external_id).values(
        digest=None, updated_at=utcnow())))


def _stated(ctx: Context, subject: str) -> Any:
    stated = ctx.last_stated([subject]).get(subject)
    if stated is None:
        raise Skip(f"the host has said nothing of {subject}")
    return stated.value


def apply(ctx: Context, finding: dict[str, Any], action: str) -> str:
    """Apply one finding's fix (or, ``action`` "accept", accept QuickBooks' version)."""
    kind, subject = finding["kind"], finding["subject"]
    external_id = subject.split(":", 1)[1]
    before = len(ctx.notes)
    if kind in ("customer_inactive", "customer_merged"):
        detail = finding["detail"]
        contact = Contact.model_validate(detail["contact"])
        if kind == "customer_merged":
            moved = links.relink(ctx, "customer", detail["from"], detail["into"])
            ctx.note(f"contact linked to customer {detail['into']}, the one kept"
                     + ("" if moved else " (already)"))
        else:
            forget_written(ctx, "customer", detail["key"])
        currency = detail["key"].split(CURRENCY_MARK, 1)[1] if CURRENCY_MARK in detail[
            "key"] else None
        with calling(ctx) as api:
            customers.sync(ctx, api, contact, currency=currency)
        return _said(ctx, before)
    value = _stated(ctx, subject)
    if isinstance(value, Payment):
        if kind != "payment_missing" or "deleted" not in finding["detail"]:
            raise Skip("a changed sales receipt is fixed by hand in QuickBooks")
        return _receipt_again(ctx, value, finding["detail"]["deleted"])
    if not isinstance(value, Invoice):
        raise Skip(f"{subject} is not an invoice")
    if kind == "payment_unapplied":
        with calling(ctx) as api:
            return "; ".join(payments.delete_left_over(ctx, api, external_id,
                                                       finding["detail"]["payments"]))
    if action == "accept" or kind in TELLS_HOST:
        return _tell_host(ctx, value, finding, action)
    if kind == "invoice_missing":
        return _invoice_again(ctx, value, finding["detail"]["deleted"], before)
    if kind in ("invoice_differs", "tax_drift"):
        forget_written(ctx, "invoice", external_id)
    invoices.push(ctx, value)  # payment_missing: push settles what QuickBooks lacks
    return _said(ctx, before)


def _said(ctx: Context, before: int) -> str:
    return "; ".join(ctx.notes[before:]) or "done"


def _tell_host(ctx: Context, invoice: Invoice, finding: dict[str, Any], action: str) -> str:
    qbo_id = str(finding["quickbooks_id"])
    with calling(ctx) as api:
        held = api.read("Invoice", qbo_id)
    stands = mirror.invoice_from(held, invoice.external_id, invoice.contact)
    if action == "accept":
        ctx.notify_host("invoice.changed_in_quickbooks", stands,
                        key=f"invoice:{qbo_id}:{held.get('SyncToken')}:accepted")
        return "QuickBooks' version kept; the host was told (invoice.changed_in_quickbooks)"
    # The key the sweep tells the same news under: the host hears it once, whoever tells.
    ctx.notify_host("invoice.payment_updated", stands,
                    key=f"invoice:{qbo_id}:{held.get('SyncToken')}")
    return (f"the host was told invoice {qbo_id} stands as QuickBooks has it ({stands.status}, "
            f"{stands.paid} paid): invoice.payment_updated")


def _invoice_again(ctx: Context, invoice: Invoice, deleted: str, before: int) -> str:
    """The host's invoice, deleted in QuickBooks, created again: looked for by its marker
    first (an earlier attempt of this fix may have made it), then created under a requestid
    naming the deleted one."""
    with calling(ctx) as api:
        customer_id = customers.sync(ctx, api, invoice.contact, invoice.billing_email,
                                     invoice.currency)
        wanted = invoices.body(ctx, api, invoice, customer_id)
        written = invoices.digest(wanted)
        held = marked_invoices.find(api, [marked_invoices.Wanted(
            invoice.external_id, customer_id, "")]).get(invoice.external_id)
        if held is not None and str(held["Id"]) != deleted:
            ctx.note(f"Invoice {held['Id']} found by its marker and linked")
            saved, written = held, ""  # what it holds is unknown: the push below updates it
        else:
            saved = api.create("Invoice", wanted, api.request_id(
                "invoice-create", invoice.external_id, written, f"after deleted {deleted}"))
            ctx.note(f"Invoice {saved['Id']} (#{saved.get('DocNumber', '-')}) created again "
                     f"(invoice {deleted} was deleted in QuickBooks)")
        invoices.remember(ctx, invoice, saved, written)
    invoices.push(ctx, invoice)  # brings a found one up to date, and settles what was paid
    return _said(ctx, before)


def _receipt_again(ctx: Context, payment: Payment, deleted: str) -> str:
    """The host's payment, its sales receipt deleted in QuickBooks, recorded again."""
    with calling(ctx) as api:
        # A retry after a lost answer finds the receipt its first try wrote (the deleted one
        # is gone from QuickBooks' answers), as the host's payment itself would.
        saved = receipts.write(ctx, api, payment, f"after deleted {deleted}")
    links.put(ctx, receipts.KIND, payment.external_id, str(saved["Id"]),
              sync_token=str(saved.get("SyncToken")), digest=None)
    return (f"Sales receipt {saved['Id']} of {saved.get('TotalAmt')} recorded again (sales "
            f"receipt {deleted} was deleted in QuickBooks)")
