"""python-quickbooks, unmodified, through the whole life of each entity."""

from __future__ import annotations

import pytest
from quickbooks import QuickBooks
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException
from quickbooks.objects.account import Account
from quickbooks.objects.base import EmailAddress, LinkedTxn, Ref
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.preferences import Preferences
from quickbooks.objects.salesreceipt import SalesReceipt

from hub.builtin.quickbooks.emulator.testing import Emulator


def customer_named(name: str, email: str | None = None) -> Customer:
    customer = Customer()
    customer.DisplayName = name
    if email:
        customer.PrimaryEmailAddr = EmailAddress()
        customer.PrimaryEmailAddr.Address = email
    return customer


def service_line(
    amount: float, qty: float | None = None, price: float | None = None, item_id: str | None = None
) -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = amount
    line.SalesItemLineDetail = SalesItemLineDetail()
    if qty is not None:
        line.SalesItemLineDetail.Qty = qty
    if price is not None:
        line.SalesItemLineDetail.UnitPrice = price
    if item_id:
        line.SalesItemLineDetail.ItemRef = Ref()
        line.SalesItemLineDetail.ItemRef.value = item_id
    return line


def invoice_for(customer: Customer, *lines: SalesItemLine) -> Invoice:
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line = list(lines)
    return invoice


def test_customer_life(qb: QuickBooks) -> None:
    saved = customer_named("Ada Lovelace", "ada@example.com").save(qb=qb)
    assert saved.Id and saved.SyncToken == "0"
    assert saved.MetaData["CreateTime"]

    found = Customer.filter(PrimaryEmailAddr="ada@example.com", qb=qb)
    assert [c.Id for c in found] == [saved.Id]

    fetched = Customer.get(saved.Id, qb=qb)
    fetched.CompanyName = "Analytical Engines"
    updated = fetched.save(qb=qb)
    assert updated.SyncToken == "1" and updated.CompanyName == "Analytical Engines"

    # python-quickbooks does not copy the new SyncToken back: the old object is now stale.
    fetched.Notes = "second edit"
    with pytest.raises(QuickbooksException) as stale:
        fetched.save(qb=qb)
    assert stale.value.error_code == 5010

    # Customers are never deleted in QuickBooks; they are made inactive.
    current = Customer.get(saved.Id, qb=qb)
    current.Active = False
    current.save(qb=qb)
    assert Customer.filter(DisplayName="Ada Lovelace", qb=qb) == []
    assert (
        len(Customer.where("Active IN (true, false) AND DisplayName = 'Ada Lovelace'", qb=qb)) == 1
    )


def test_duplicate_display_name_is_6240_case_insensitive(qb: QuickBooks) -> None:
    customer_named("Grace Hopper").save(qb=qb)
    # python-quickbooks files codes 5000-9999 under its base QuickbooksException.
    with pytest.raises(QuickbooksException) as caught:
        customer_named("grace HOPPER ").save(qb=qb)
    assert caught.value.error_code == 6240


def test_missing_object_is_610(qb: QuickBooks) -> None:
    with pytest.raises(ObjectNotFoundException) as caught:
        Customer.get("99999", qb=qb)
    assert caught.value.error_code == 610


def test_item_and_account_life(qb: QuickBooks) -> None:
    account = Account()
    account.Name = "Consulting Income"
    account.AccountType = "Income"
    account = account.save(qb=qb)
    assert account.Classification == "Revenue"

    item = Item()
    item.Name = "Consulting"
    item.Type = "Service"
    item.UnitPrice = 120
    item.IncomeAccountRef = account.to_ref()
    item = item.save(qb=qb)
    assert Item.filter(Name="Consulting", qb=qb)[0].Id == item.Id

    item = Item.get(item.Id, qb=qb)
    item.UnitPrice = 130
    item = item.save(qb=qb)
    assert item.UnitPrice == 130 and item.SyncToken == "1"
    item.Active = False
    item.save(qb=qb)
    assert Item.filter(Name="Consulting", qb=qb) == []

    services = Item.filter(Name="Services", qb=qb)
    assert len(services) == 1
    assert {a.Name for a in Account.all(qb=qb)} >= {"Services", "Sales of Product Income"}


def test_invoice_life(qb: QuickBooks) -> None:
    customer = customer_named("Invoice Customer", "pay@example.com").save(qb=qb)
    invoice = invoice_for(customer, service_line(150.0, qty=3, price=50.0)).save(qb=qb)
    assert invoice.TotalAmt == 150.0 and invoice.Balance == 150.0
    assert invoice.DocNumber and invoice.TxnDate and invoice.DueDate
    assert invoice.BillEmail.Address == "pay@example.com"
    assert invoice.CurrencyRef.value == "USD"
    assert Customer.get(customer.Id, qb=qb).Balance == 150.0

    fetched = Invoice.get(invoice.Id, qb=qb)
    fetched.Line = [service_line(200.0, qty=4, price=50.0)]
    updated = fetched.save(qb=qb)
    assert updated.TotalAmt == 200.0 and updated.SyncToken == "1"

    sent = Invoice.get(invoice.Id, qb=qb).send(qb=qb, send_to="other@example.com")
    assert sent["Invoice"]["EmailStatus"] == "EmailSent"
    assert sent["Invoice"]["BillEmail"]["Address"] == "other@example.com"
    assert Invoice.get(invoice.Id, qb=qb).download_pdf(qb=qb).startswith(b"%PDF")

    voided = Invoice.get(invoice.Id, qb=qb)
    voided.void(qb=qb)
    after = Invoice.get(invoice.Id, qb=qb)
    assert after.TotalAmt == 0 and after.Balance == 0 and after.PrivateNote == "Voided"
    assert Customer.get(customer.Id, qb=qb).Balance == 0
    with pytest.raises(QuickbooksException):
        after.save(qb=qb)

    doomed = invoice_for(customer, service_line(10.0)).save(qb=qb)
    answer = Invoice.get(doomed.Id, qb=qb).delete(qb=qb)
    assert answer["Invoice"]["status"] == "Deleted"
    with pytest.raises(ObjectNotFoundException):
        Invoice.get(doomed.Id, qb=qb)


def test_payment_life(qb: QuickBooks) -> None:
    customer = customer_named("Paying Customer").save(qb=qb)
    invoice = invoice_for(customer, service_line(100.0, qty=1, price=100.0)).save(qb=qb)

    payment = Payment()
    payment.CustomerRef = customer.to_ref()
    payment.TotalAmt = 60.0
    line = PaymentLine()
    line.Amount = 60.0
    link = LinkedTxn()
    link.TxnId = invoice.Id
    link.TxnType = "Invoice"
    line.LinkedTxn = [link]
    payment.Line = [line]
    payment = payment.save(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 40.0
    assert Customer.get(customer.Id, qb=qb).Balance == 40.0

    payment = Payment.get(payment.Id, qb=qb)
    payment.void(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 100.0
    assert Payment.get(payment.Id, qb=qb).TotalAmt == 0

    again = Payment()
    again.CustomerRef = customer.to_ref()
    again.TotalAmt = 25.0
    again.Line = [line]
    line.Amount = 25.0
    again = again.save(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 75.0
    Payment.get(again.Id, qb=qb).delete(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 100.0


def test_overpaying_an_invoice_is_refused(qb: QuickBooks) -> None:
    customer = customer_named("Over Payer").save(qb=qb)
    invoice = invoice_for(customer, service_line(30.0)).save(qb=qb)
    payment = Payment()
    payment.CustomerRef = customer.to_ref()
    payment.TotalAmt = 50.0
    line = PaymentLine()
    line.Amount = 50.0
    link = LinkedTxn()
    link.TxnId = invoice.Id
    link.TxnType = "Invoice"
    line.LinkedTxn = [link]
    payment.Line = [line]
    with pytest.raises(QuickbooksException) as caught:
        payment.save(qb=qb)
    assert caught.value.error_code == 6000
    assert Invoice.get(invoice.Id, qb=qb).Balance == 30.0


def test_sales_receipt_life(qb: QuickBooks) -> None:
    receipt = SalesReceipt()
    receipt.Line = [service_line(35.0, qty=1, price=35.0)]
    receipt = receipt.save(qb=qb)
    assert receipt.TotalAmt == 35.0 and receipt.Balance == 0
    receipt = SalesReceipt.get(receipt.Id, qb=qb)
    receipt.void(qb=qb)
    assert SalesReceipt.get(receipt.Id, qb=qb).TotalAmt == 0
    other = SalesReceipt()
    other.Line = [service_line(5.0)]
    other = other.save(qb=qb)
    SalesReceipt.get(other.Id, qb=qb).delete(qb=qb)
    assert SalesReceipt.filter(Id=other.Id, qb=qb) == []


def test_company_info_and_preferences(qb: QuickBooks, emulator: Emulator) -> None:
    info = CompanyInfo.get(emulator.realm_id, qb=qb)
    assert info.Country == "US" and info.CompanyName
    prefs = Preferences.get(qb=qb)
    assert prefs.SalesFormsPrefs.AllowDiscount is True
    assert prefs.CurrencyPrefs.HomeCurrency.value == "USD"
    assert CompanyInfo.all(qb=qb)[0].Id == emulator.realm_id


def test_request_id_replays_the_first_answer(qb: QuickBooks, emulator: Emulator) -> None:
    first = customer_named("Once Only").save(qb=qb, request_id="delivery-42")
    second = customer_named("Once Only").save(qb=qb, request_id="delivery-42")
    assert first.Id == second.Id
    assert len([c for c in emulator.objects("Customer") if c["DisplayName"] == "Once Only"]) == 1
    # A different requestid is a new request: now the duplicate name is refused.
    with pytest.raises(QuickbooksException):
        customer_named("Once Only").save(qb=qb, request_id="delivery-43")
