"""The demo company: a US/USD realm with accounts, service items, customers, invoices and one
partly paid invoice. Built through the same code paths the API uses, so it is consistent.
Companies outside the US start with their country's usual sales tax codes instead."""

from __future__ import annotations

from typing import Any

from . import entities, transactions
from .clock import qbo_timestamp
from .context import Ctx
from .global_tax import add_tax_code
from .store import Company, new_company, stamp_created, table

# Sales tax codes a new company outside the US starts with: (code Id, rate Id, name, percent).
# Code 2 is the standard rate and code 4 is zero-rated in every country.
SALES_TAX_CODES = {
    "GB": [("2", "1", "20.0% S", 20), ("4", "3", "0.0% Z", 0), ("6", "5", "5.0% R", 5)],
    "CA": [("2", "1", "GST", 5), ("4", "3", "Zero-rated", 0), ("6", "5", "HST ON", 13)],
    "AU": [("2", "1", "GST", 10), ("4", "3", "GST free", 0)],
}
DEFAULT_CODES = [("2", "1", "20.0% S", 20), ("4", "3", "0.0% Z", 0)]
DEMO_REALM = "9341453050298134"
DEMO_NAME = "Ledgerline Demo Landscaping"


def put(ctx: Ctx, entity: str, ident: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Insert a fixed-Id record (Ids Intuit's documentation examples refer to)."""
    obj = obj | {"Id": ident, "domain": "QBO", "sparse": False}
    stamp_created(obj)
    table(ctx.company, entity)[ident] = obj
    return obj


def rekey(ctx: Ctx, entity: str, obj: dict[str, Any], ident: str) -> dict[str, Any]:
    """Give a created record the Id Intuit's sandbox (and its documentation) uses for it."""
    objects = table(ctx.company, entity)
    del objects[obj["Id"]]
    obj["Id"] = ident
    objects[ident] = obj
    return obj


def company_info(realm: str, name: str, country: str) -> dict[str, Any]:
    return {
        "CompanyName": name,
        "LegalName": name + " LLC",
        "CompanyAddr": {
            "Line1": "123 Sierra Way",
            "City": "San Pablo",
            "CountrySubDivisionCode": "CA",
            "PostalCode": "87999",
            "Country": country,
        },
        "Country": country,
        "Email": {"Address": "owner@example.com"},
        "CompanyStartDate": "2024-01-01",
        "FiscalYearStartMonth": "January",
        "SupportedLanguages": "en",
        "NameValue": [{"Name": "OfferingSku", "Value": "QuickBooks Online Plus"}],
        "realm": realm,
    }


def preferences(currency: str, us: bool, multicurrency: bool = False) -> dict[str, Any]:
    return {
        "SalesFormsPrefs": {
            "AllowDiscount": True,
            "AllowDeposit": True,
            "AllowShipping": False,
            "CustomTxnNumbers": False,
            "ETransactionEnabledStatus": "Enabled",
        },
        "CurrencyPrefs": {
            "HomeCurrency": {"value": currency},
            "MultiCurrencyEnabled": multicurrency,
        },
        "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": us},
        "AccountingInfoPrefs": {"TrackDepartments": False},
        "ProductAndServicesPrefs": {"ForSales": True, "ForPurchase": True, "QuantityOnHand": True},
    }


def build_company(
    realm: str,
    name: str,
    country: str = "US",
    currency: str = "USD",
    demo_data: bool = True,
    multicurrency: bool = False,
) -> Company:
    company = new_company(realm, name, country, currency)
    company["next_id"] = 100  # fixed Ids below stay clear of allocated ones
    ctx = Ctx(company)
    put(ctx, "CompanyInfo", realm, company_info(realm, name, country))
    put(ctx, "Preferences", "1", preferences(currency, country == "US", multicurrency))
    put(
        ctx,
        "Account",
        "1",
        {
            "Name": "Services",
            "AccountType": "Income",
            "AccountSubType": "ServiceFeeIncome",
            "Classification": "Revenue",
        },
    )
    put(
        ctx,
        "Account",
        "79",
        {
            "Name": "Sales of Product Income",
            "AccountType": "Income",
            "AccountSubType": "SalesOfProductIncome",
            "Classification": "Revenue",
        },
    )
    put(
        ctx,
        "Account",
        "80",
        {
            "Name": "Cost of Goods Sold",
            "AccountType": "Cost of Goods Sold",
            "AccountSubType": "SuppliesMaterialsCogs",
            "Classification": "Expense",
        },
    )
    put(
        ctx,
        "Account",
        "81",
        {
            "Name": "Inventory Asset",
            "AccountType": "Other Current Asset",
            "AccountSubType": "Inventory",
            "Classification": "Asset",
        },
    )
    put(
        ctx,
        "Account",
        "84",
        {
            "Name": "Accounts Receivable (A/R)",
            "AccountType": "Accounts Receivable",
            "AccountSubType": "AccountsReceivable",
            "Classification": "Asset",
        },
    )
    put(
        ctx,
        "Account",
        "86",
        {
            "Name": "Discounts given",
            "AccountType": "Income",
            "AccountSubType": "DiscountsRefundsGiven",
            "Classification": "Revenue",
        },
    )
    for account in table(company, "Account").values():
        account |= {
            "Active": True,
            "SubAccount": False,
            "FullyQualifiedName": account["Name"],
            "CurrentBalance": 0,
            "CurrentBalanceWithSubAccounts": 0,
            "CurrencyRef": entities.currency_ref(ctx),
        }
    if country == "US":
        put(
            ctx,
            "TaxRate",
            "1",
            {
                "Name": "California",
                "RateValue": 8,
                "Active": True,
                "AgencyRef": {"value": "1"},
                "SpecialTaxType": "NONE",
            },
        )
        put(
            ctx,
            "TaxCode",
            "2",
            {
                "Name": "California",
                "Active": True,
                "Taxable": True,
                "TaxGroup": False,
                "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": "1"}}]},
            },
        )
    else:
        for code_id, rate_id, name, rate in SALES_TAX_CODES.get(country.upper(), DEFAULT_CODES):
            add_tax_code(company, name, rate, code_id=code_id, rate_id=rate_id)
        if country.upper() == "CA":
            # Quebec's code charges two rates, GST and QST: never the code for one host rate.
            quebec = add_tax_code(company, "GST/QST QC", 9.975, code_id="8", rate_id="7")
            table(company, "TaxRate")["7"]["Name"] = "QST QC"
            quebec["TaxGroup"] = True
            quebec["SalesTaxRateList"]["TaxRateDetail"].insert(
                0,
                {
                    "TaxRateRef": {"value": "1", "name": "GST"},
                    "TaxTypeApplicable": "TaxOnAmount",
                    "TaxOrder": 0,
                },
            )
    services = put(
        ctx,
        "Item",
        "1",
        {
            "Name": "Services",
            "Type": "Service",
            "UnitPrice": 0,
            "IncomeAccountRef": {"value": "1", "name": "Services"},
        },
    )
    services |= {
        "Active": True,
        "FullyQualifiedName": "Services",
        "Taxable": False,
        "TrackQtyOnHand": False,
    }
    if not demo_data:
        return company
    # Ids and names follow Intuit's sandbox company, which the API reference examples use.
    for ident, name, price in (
        ("5", "Gardening", 25.0),
        ("6", "Lawn Mowing", 40.0),
        ("10", "Pest Control", 35.0),
    ):
        item = entities.create_name(
            ctx,
            "Item",
            {
                "Name": name,
                "Type": "Service",
                "UnitPrice": price,
                "IncomeAccountRef": {"value": "1", "name": "Services"},
            },
        )
        rekey(ctx, "Item", item, ident)
    people = [
        ("1", "Amy's Bird Sanctuary", "Amy", "Lauterbach", "birds@example.com"),
        ("2", "Bill's Windsurf Shop", "Bill", "Lucchini", "surf@example.com"),
        ("3", "Cool Cars", "Grace", "Pariente", "cars@example.com"),
        ("20", "Red Rock Diner", "Stephanie", "Martini", "diner@example.com"),
    ]
    customers = [
        rekey(
            ctx,
            "Customer",
            entities.create_name(
                ctx,
                "Customer",
                {
                    "DisplayName": display,
                    "GivenName": given,
                    "FamilyName": family,
                    "CompanyName": display,
                    "PrimaryEmailAddr": {"Address": email},
                },
            ),
            ident,
        )
        for ident, display, given, family, email in people
    ]
    ctx.changes.clear()
    gardening = entities.by_name(ctx, "Item", "Gardening")
    assert gardening is not None
    amounts = [(customers[0], 4, 25.0), (customers[1], 2, 25.0), (customers[3], 6, 25.0)]
    invoices = [
        transactions.create_sales_form(
            ctx,
            "Invoice",
            {
                "CustomerRef": {"value": customer["Id"]},
                "Line": [
                    {
                        "DetailType": "SalesItemLineDetail",
                        "Amount": qty * price,
                        "Description": "Weekly gardening",
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": gardening["Id"]},
                            "Qty": qty,
                            "UnitPrice": price,
                        },
                    }
                ],
            },
        )
        for customer, qty, price in amounts
    ]
    transactions.create_payment(
        ctx,
        {
            "CustomerRef": {"value": customers[3]["Id"]},
            "TotalAmt": 50.0,
            "Line": [
                {"Amount": 50.0, "LinkedTxn": [{"TxnId": invoices[2]["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    company["seeded_at"] = qbo_timestamp()
    return company
