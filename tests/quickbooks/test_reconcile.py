"""hub quickbooks reconcile: what the host last said against what QuickBooks holds now, one
finding per difference; --fix applies the safe fixes as deliveries of the reconcile-work job,
after which reconcile finds nothing and nothing in QuickBooks is doubled. Against the emulator,
its books changed by hand as a person would change them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from hub.builtin.quickbooks import links, reconcile_fixes
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.roles.cli import build_cli
from hub.web.app import create_app
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_ctx, qbo_env
from tests.quickbooks.test_from_quickbooks import told
from tests.quickbooks.test_invoices import invoice_data, post, qbo_invoice
from tests.samples import DATA


def reconcile_cli(tmp_path: Path, emulator: Emulator, *args: str) -> dict[str, Any]:
    said = CliRunner().invoke(build_cli(), ["quickbooks", "reconcile", "--json", *args],
                              env=qbo_env(tmp_path, emulator))
    assert said.exit_code == 0, said.output
    return json.loads(said.stdout)  # type: ignore[no-any-return]


def kinds(found: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["kind"], f["subject"]) for f in found["findings"]]


def fix_and_check_again(hub: Hub, tmp_path: Path, emulator: Emulator) -> dict[str, Any]:
    """--fix, the job's delivery run as a worker runs it, then reconcile again."""
    reconcile_cli(tmp_path, emulator, "--fix")
    run_due(hub)
    [work] = [d for e in _job_events(hub) for d in e["deliveries"]]
    assert work["status"] == "done", work
    # Activity says each fix once, under its finding (seen: every fix's words twice).
    said = [p.split(": ", 1)[1] if p.split(":", 1)[0] in ("invoice", "contact", "payment")
            else p for p in work["result"].split("; ")]
    assert len(said) == len(set(said)), work["result"]
    return reconcile_cli(tmp_path, emulator)


def _job_events(hub: Hub) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from hub.queue.db import reading
    from hub.queue.store import EVENTS

    with reading(hub.engine) as conn:
        keys = conn.execute(select(EVENTS.c.key).where(
            EVENTS.c.key.like("quickbooks.reconcile-work@%"))).scalars().all()
    found = [hub.event(key, source="scheduler") for key in keys]
    return [e for e in found if e is not None]


def sent(hub: Hub, emulator: Emulator) -> dict[str, Any]:
    """The host's invoice inv-1, sent and written to QuickBooks; as QuickBooks holds it."""
    post(create_app(hub).test_client(), "invoice.sent", "evt_1", invoice_data())
    run_due(hub)
    return qbo_invoice(hub, emulator)


def marked(emulator: Emulator, external_id: str = "inv-1") -> list[dict[str, Any]]:
    """The invoices QuickBooks holds for the host's invoice (by the hub's marker)."""
    return [i for i in emulator.objects("Invoice")
            if links.marked(i.get("PrivateNote")) == external_id and not i.get("_deleted")]


def test_agreeing_books_find_nothing_at_a_few_reads(connected: Hub, emulator: Emulator,
                                                    tmp_path: Path) -> None:
    client = create_app(connected).test_client()
    for n in range(3):
        post(client, "invoice.sent", f"evt_{n}", invoice_data(external_id=f"inv-{n}",
                                                               number=f"10{n}"))
    run_due(connected)
    emulator.reset_calls()
    found = reconcile_cli(tmp_path, emulator)
    assert found["findings"] == []
    assert found["checked"] == {"invoices": 3, "contacts": 1, "payments": 0}
    # One batch call: a query for the 3 invoices, one for their customer.
    assert (found["reads"], found["calls"]) == (2, 1)
    assert emulator.calls() == {"POST batch": 1}
    # --since leaves out what the host stated before that day.
    later = reconcile_cli(tmp_path, emulator, "--since", "2199-01-01")
    assert later["checked"] == {"invoices": 0, "contacts": 0, "payments": 0}


def test_a_deleted_invoice_is_created_again_once(connected: Hub, emulator: Emulator,
                                                 tmp_path: Path) -> None:
    first = sent(connected, emulator)
    emulator.delete("Invoice", first["Id"])
    found = reconcile_cli(tmp_path, emulator)
    assert kinds(found) == [("invoice_missing", "invoice:inv-1")]
    [finding] = found["findings"]
    assert "deleted" in finding["quickbooks_says"] and finding["safe"]
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    [again] = marked(emulator)
    assert again["Id"] != first["Id"]
    assert Decimal(str(again["TotalAmt"])) == Decimal("189.98")
    # Asked again (a second --fix, a retried job): nothing doubled.
    reconcile_fixes.ask(qbo_ctx(connected), [{**finding, "id": "asked-again"}])
    run_due(connected)
    assert len(marked(emulator)) == 1


def test_an_invoice_changed_in_quickbooks_is_put_back(connected: Hub, emulator: Emulator,
                                                      tmp_path: Path) -> None:
    first = sent(connected, emulator)
    emulator.edit_invoice(first["Id"], TxnDate="2026-03-30", DueDate="2026-05-01")
    found = reconcile_cli(tmp_path, emulator)
    assert kinds(found) == [("invoice_differs", "invoice:inv-1")]
    says = found["findings"][0]["quickbooks_says"]
    assert "date 2026-03-30 (the host's 2026-03-28)" in says and "due 2026-05-01" in says
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    [back] = marked(emulator)
    assert (back["Id"], back["TxnDate"], back["DueDate"]) == (first["Id"], "2026-03-28",
                                                              "2026-04-04")


def test_quickbooks_version_can_be_accepted_and_the_host_told(
        connected: Hub, emulator: Emulator, host: Recorder, tmp_path: Path) -> None:
    first = sent(connected, emulator)
    emulator.edit_invoice(first["Id"], DueDate="2026-05-01")
    found = reconcile_cli(tmp_path, emulator)
    [finding] = found["findings"]
    assert finding["accept"]
    ctx = qbo_ctx(connected)
    assert reconcile_fixes.ask_ids(ctx, [finding["id"]], "accept") == 1
    run_due(connected)
    [changed] = told(host, "invoice.changed_in_quickbooks")
    assert changed["data"]["external_id"] == "inv-1"
    assert changed["data"]["due_date"] == "2026-05-01"
    assert reconcile_cli(tmp_path, emulator)["findings"] == []
    assert qbo_invoice(connected, emulator)["DueDate"] == "2026-05-01"  # kept


def test_lines_changed_in_quickbooks_are_found(connected: Hub, emulator: Emulator,
                                               tmp_path: Path) -> None:
    first = sent(connected, emulator)
    lines = [line for line in first["Line"] if line.get("DetailType") == "SalesItemLineDetail"]
    emulator.edit_invoice(first["Id"], Line=lines[:1])
    found = reconcile_cli(tmp_path, emulator)
    assert kinds(found) == [("invoice_differs", "invoice:inv-1")]
    assert "1 lines (the host's 2)" in found["findings"][0]["quickbooks_says"]
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    assert Decimal(str(qbo_invoice(connected, emulator)["TotalAmt"])) == Decimal("189.98")


def test_an_invoice_voided_in_quickbooks_is_told_never_unvoided(
        connected: Hub, emulator: Emulator, host: Recorder, tmp_path: Path) -> None:
    first = sent(connected, emulator)
    emulator.void("Invoice", first["Id"])
    before = len(emulator.objects("Invoice"))
    found = reconcile_cli(tmp_path, emulator)
    assert kinds(found) == [("invoice_voided", "invoice:inv-1")]
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    [update] = told(host, "invoice.payment_updated")
    assert update["data"]["status"] == "void"
    assert Decimal(str(qbo_invoice(connected, emulator)["TotalAmt"])) == 0  # still void
    assert len(emulator.objects("Invoice")) == before


def test_a_payment_deleted_in_quickbooks_is_recorded_again(connected: Hub, emulator: Emulator,
                                                           tmp_path: Path) -> None:
    client = create_app(connected).test_client()
    post(client, "invoice.paid", "evt_1", invoice_data(status="partially_paid",
                                                       amount_paid="89.98"))
    run_due(connected)
    invoice = qbo_invoice(connected, emulator)
    [payment] = [p for p in emulator.objects("Payment")
                 if p["Line"][0]["LinkedTxn"][0]["TxnId"] == invoice["Id"]]
    emulator.delete("Payment", payment["Id"])
    found = reconcile_cli(tmp_path, emulator)
    assert kinds(found) == [("payment_missing", "invoice:inv-1")]
    assert "0.00 paid" in found["findings"][0]["quickbooks_says"]
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    assert Decimal(str(qbo_invoice(connected, emulator)["Balance"])) == Decimal("100.00")
    live = [p for p in emulator.objects("Payment") if not p.get("_deleted")
            and p["Line"] and p["Line"][0]["LinkedTxn"][0]["TxnId"] == invoice["Id"]]
    assert len(live) == 1


def test_a_payment_recorded_only_in_quickbooks_is_reported_not_deleted(
        connected: Hub, emulator: Emulator, host: Recorder, tmp_path: Path) -> None:
    first = sent(connected, emulator)
    emulator.record_payment(first["Id"], 20)
    found = reconcile_cli(tmp_path, emulator)
    assert kinds(found) == [("payment_extra", "invoice:inv-1")]
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    [update] = told(host, "invoice.payment_updated")
    assert update["data"]["amount_paid"] == "20.00"
    assert Decimal(str(qbo_invoice(connected, emulator)["Balance"])) == Decimal("169.98")


def test_a_customer_made_inactive_is_made_active_again(connected: Hub, emulator: Emulator,
                                                       tmp_path: Path) -> None:
    first = sent(connected, emulator)
    customer_id = first["CustomerRef"]["value"]
    emulator.hand_edit("Customer", customer_id, Active=False)
    before = len(emulator.objects("Customer"))
    found = reconcile_cli(tmp_path, emulator)
    assert ("customer_inactive", f"contact:{DATA['invoice.sent']['contact']['external_id']}") \
        in kinds(found)
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    assert emulator.get("Customer", customer_id)["Active"] is True  # type: ignore[index]
    assert len(emulator.objects("Customer")) == before


def test_a_merged_customer_is_relinked_to_the_one_kept(connected: Hub, emulator: Emulator,
                                                       tmp_path: Path) -> None:
    first = sent(connected, emulator)
    gone = first["CustomerRef"]["value"]
    kept = emulator.add_customer(DisplayName="Parent (duplicate)",
                                 PrimaryEmailAddr={"Address": "parent@example.com"})
    emulator.merge_customers(gone, kept["Id"])
    before = len(emulator.objects("Customer"))
    found = reconcile_cli(tmp_path, emulator)
    contact = DATA["invoice.sent"]["contact"]["external_id"]
    assert kinds(found) == [("customer_merged", f"contact:{contact}")]  # not the invoice
    assert f"merged into customer {kept['Id']}" in found["findings"][0]["quickbooks_says"]
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    link = links.get(qbo_ctx(connected), "customer", contact)
    assert link is not None and link["qbo_id"] == kept["Id"]
    assert len(emulator.objects("Customer")) == before


def test_tax_worked_out_again_in_quickbooks_is_tax_drift(connected: Hub, emulator: Emulator,
                                                         tmp_path: Path) -> None:
    first = sent(connected, emulator)
    # Automated sales tax works out its own tax on the lines, on top of the host's total
    # (which already holds the host's tax): the lines made taxable, the tax QuickBooks adds.
    lines = [dict(line, SalesItemLineDetail={**line["SalesItemLineDetail"],
                                             "TaxCodeRef": {"value": "TAX"}})
             for line in first["Line"] if line.get("DetailType") == "SalesItemLineDetail"]
    emulator.hand_edit("Invoice", first["Id"], Line=lines, TxnTaxDetail={"TotalTax": 4.5})
    found = reconcile_cli(tmp_path, emulator)
    assert kinds(found) == [("tax_drift", "invoice:inv-1")]
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    assert Decimal(str(qbo_invoice(connected, emulator)["TotalAmt"])) == Decimal("189.98")


def _receipt_deleted_in_quickbooks(hub: Hub, emulator: Emulator) -> str:
    """The host's payment recorded as a sales receipt, which a person then deletes."""
    post(create_app(hub).test_client(), "payment", "evt_1", DATA["payment"])
    run_due(hub)
    external_id: str = DATA["payment"]["external_id"]
    link = links.get(qbo_ctx(hub), "sales_receipt", external_id)
    assert link is not None
    emulator.delete("SalesReceipt", link["qbo_id"])
    return external_id


def test_a_deleted_sales_receipt_is_recorded_again(connected: Hub, emulator: Emulator,
                                                   tmp_path: Path) -> None:
    external_id = _receipt_deleted_in_quickbooks(connected, emulator)
    found = reconcile_cli(tmp_path, emulator)
    assert kinds(found) == [("payment_missing", f"payment:{external_id}")]
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    live = [r for r in emulator.objects("SalesReceipt") if not r.get("_deleted")
            and external_id in str(r.get("PrivateNote"))]
    assert len(live) == 1


def test_a_scheduled_reconcile_tells_the_host_a_summary(
        connected: Hub, emulator: Emulator, host: Recorder) -> None:
    from hub.clock import utcnow
    from hub.plugins.jobs import fire

    assert "quickbooks.reconcile" not in connected.jobs()  # off by default
    connected.states.update_settings("quickbooks", {"reconcile_days": 7})
    connected.states.enabled("quickbooks")  # read back (Hub.jobs reads the version first)
    job = connected.jobs()["quickbooks.reconcile"]
    first = sent(connected, emulator)
    emulator.delete("Invoice", first["Id"])
    fire(connected, job, utcnow())
    run_due(connected)
    [summary] = told(host, "reconcile.summary")
    assert summary["data"]["counts"] == {"invoice_missing": 1}
    assert summary["data"]["checked"]["invoices"] == 1
    [finding] = summary["data"]["findings"]
    assert finding["subject"] == "invoice:inv-1" and "create it again" in finding["fix"]
    # Nothing was fixed by it: the operator chooses.
    assert marked(emulator) == []


def test_a_receipt_recorded_again_is_not_doubled_by_a_retry(connected: Hub, emulator: Emulator,
                                                              tmp_path: Path) -> None:
    """The fix's answer lost, and QuickBooks no longer remembering its requestid: the retry
    finds the receipt the first try wrote by its note, and money is recorded once."""
    from datetime import timedelta

    from freezegun import freeze_time

    from hub.clock import utcnow

    external_id = _receipt_deleted_in_quickbooks(connected, emulator)
    reconcile_cli(tmp_path, emulator, "--fix")
    with freeze_time(utcnow()) as clock:
        emulator.drop_next(1, only="salesreceipt")  # written in QuickBooks, the answer lost
        run_due(connected)
        emulator.forget_requestids()
        clock.tick(timedelta(minutes=10))
        run_due(connected)
    [work] = [d for e in _job_events(connected) for d in e["deliveries"]]
    assert work["status"] == "done", work
    live = [r for r in emulator.objects("SalesReceipt") if not r.get("_deleted")
            and external_id in str(r.get("PrivateNote"))]
    assert len(live) == 1
    assert reconcile_cli(tmp_path, emulator)["findings"] == []


def _paid_through_the_hub(hub: Hub, emulator: Emulator) -> tuple[dict[str, Any], dict[str, Any]]:
    """inv-1 sent and 89.98 of it paid through the hub: (the invoice, the hub's payment)."""
    post(create_app(hub).test_client(), "invoice.paid", "evt_1",
         invoice_data(status="partially_paid", amount_paid="89.98"))
    run_due(hub)
    invoice = qbo_invoice(hub, emulator)
    [payment] = _payments_of(emulator, invoice)
    return invoice, payment


def _payments_of(emulator: Emulator, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """The payments standing for the invoice's customer (the demo company has others)."""
    return [p for p in emulator.objects("Payment") if not p.get("_deleted")
            and p["CustomerRef"]["value"] == invoice["CustomerRef"]["value"]]


def test_a_deleted_paid_invoice_gets_the_hubs_own_payment_back_not_a_second(
        connected: Hub, emulator: Emulator, tmp_path: Path) -> None:
    first, payment = _paid_through_the_hub(connected, emulator)
    emulator.delete("Invoice", first["Id"])
    # Intuit keeps the payment as credit on the customer.
    assert Decimal(str(emulator.get("Payment", payment["Id"])["UnappliedAmt"])) == Decimal(
        "89.98")
    found = reconcile_cli(tmp_path, emulator)
    [finding] = found["findings"]
    assert finding["kind"] == "invoice_missing"
    assert f"Payment {payment['Id']}" in finding["quickbooks_says"]
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    [again] = marked(emulator)
    assert Decimal(str(again["Balance"])) == Decimal("100.00")
    # The same money, applied to the new invoice: no second payment, no credit left over.
    [kept] = _payments_of(emulator, first)
    assert kept["Id"] == payment["Id"]
    assert Decimal(str(kept["UnappliedAmt"])) == 0
    assert [t["TxnId"] for line in kept["Line"] for t in line["LinkedTxn"]] == [again["Id"]]


def test_a_payment_taken_off_by_hand_is_applied_again_not_recorded_twice(
        connected: Hub, emulator: Emulator, tmp_path: Path) -> None:
    invoice, payment = _paid_through_the_hub(connected, emulator)
    emulator.hand_edit("Payment", payment["Id"], Line=[])
    found = reconcile_cli(tmp_path, emulator)
    assert kinds(found) == [("payment_missing", "invoice:inv-1")]
    assert f"Payment {payment['Id']}" in found["findings"][0]["fix"]
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    [kept] = _payments_of(emulator, invoice)
    assert (kept["Id"], Decimal(str(kept["UnappliedAmt"]))) == (payment["Id"], 0)
    assert Decimal(str(qbo_invoice(connected, emulator)["Balance"])) == Decimal("100.00")


def test_the_hubs_payment_left_over_beside_one_by_hand_is_found(
        connected: Hub, emulator: Emulator, tmp_path: Path) -> None:
    """A bookkeeper took the hub's payment off and recorded the same money again by hand:
    the customer has paid twice in QuickBooks' books. Reconcile says so; the fix deletes the
    hub's own left-over payment, never the bookkeeper's."""
    invoice, payment = _paid_through_the_hub(connected, emulator)
    emulator.hand_edit("Payment", payment["Id"], Line=[])
    by_hand = emulator.record_payment(invoice["Id"], 89.98)
    found = reconcile_cli(tmp_path, emulator)
    assert kinds(found) == [("payment_unapplied", "invoice:inv-1")]
    [finding] = found["findings"]
    assert finding["safe"] and "89.98" in finding["quickbooks_says"]
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    assert [p["Id"] for p in _payments_of(emulator, invoice)] == [by_hand["Id"]]


def test_the_summary_counts_in_words_one_or_many() -> None:
    from hub.builtin.quickbooks.reconcile_findings import Report, lines

    one = Report(checked={"invoices": 1, "contacts": 1, "payments": 1}, reads=1, calls=1)
    assert lines(one)[0] == ("checked 1 invoice, 1 contact and 1 payment: 1 QuickBooks read "
                             "in 1 call")
    two = Report(checked={"invoices": 2, "contacts": 0, "payments": 3}, reads=2, calls=2)
    assert lines(two)[0] == ("checked 2 invoices, 0 contacts and 3 payments: 2 QuickBooks "
                             "reads in 2 calls")


def test_an_invoice_edited_by_hand_is_no_payment_news_for_the_host(
        connected: Hub, emulator: Emulator, host: Recorder, tmp_path: Path) -> None:
    """Lines changed by hand move the balance, but nothing was paid: the sweep tells the host
    no invoice.payment_updated, so the put-back leaves host and QuickBooks agreeing."""
    from tests.quickbooks.test_from_quickbooks import sweep

    first = sent(connected, emulator)
    lines = [line for line in first["Line"] if line.get("DetailType") == "SalesItemLineDetail"]
    emulator.edit_invoice(first["Id"], Line=lines[:1])
    sweep(connected)
    assert told(host, "invoice.payment_updated") == []
    assert kinds(reconcile_cli(tmp_path, emulator)) == [("invoice_differs", "invoice:inv-1")]
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    sweep(connected)
    assert told(host, "invoice.payment_updated") == []
    # A payment recorded by hand is still news.
    emulator.record_payment(first["Id"], 20)
    sweep(connected)
    [paid] = told(host, "invoice.payment_updated")
    assert paid["data"]["amount_paid"] == "20.00"
