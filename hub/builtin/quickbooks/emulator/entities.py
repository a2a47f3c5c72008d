"""Create, read, update and delete for name lists (Customer, Item, Account) and singletons
(CompanyInfo, Preferences), plus the helpers the transaction module shares: currencies and
exchange rates among them."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from . import faults
from .arithmetic import money, number, out, ref_value
from .clock import qbo_timestamp, today
from .context import Ctx
from .store import allocate_id, public, stamp_created, stamp_updated, table

NAME_LISTS = ("Customer", "Item", "Account")
TRANSACTIONS = ("Invoice", "Payment", "SalesReceipt")
READ_ONLY = ("TaxCode", "TaxRate")
SINGLETONS = ("CompanyInfo", "Preferences")
# DisplayName is unique across these three tables (Intuit's rule; only Customer is emulated).
PEOPLE = ("Customer", "Vendor", "Employee")
# Fields the client may send back but the server owns.
SERVER_OWNED = {"MetaData", "domain", "sparse", "SyncToken", "Id"}
CUSTOMER_OWNED = {"Balance", "BalanceWithJobs", "FullyQualifiedName"}
ACCOUNT_CLASSIFICATION = {
    "Bank": ("Asset", "Checking"),
    "Other Current Asset": ("Asset", "OtherCurrentAssets"),
    "Fixed Asset": ("Asset", "MachineryAndEquipment"),
    "Other Asset": ("Asset", "OtherLongTermAssets"),
    "Accounts Receivable": ("Asset", "AccountsReceivable"),
    "Equity": ("Equity", "OwnersEquity"),
    "Expense": ("Expense", "OtherMiscellaneousServiceCost"),
    "Other Expense": ("Expense", "OtherMiscellaneousExpense"),
    "Cost of Goods Sold": ("Expense", "SuppliesMaterialsCogs"),
    "Accounts Payable": ("Liability", "AccountsPayable"),
    "Credit Card": ("Liability", "CreditCard"),
    "Long Term Liability": ("Liability", "NotesPayable"),
    "Other Current Liability": ("Liability", "OtherCurrentLiabilities"),
    "Income": ("Revenue", "SalesOfProductIncome"),
    "Other Income": ("Revenue", "OtherMiscellaneousIncome"),
}
CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "GBP": "British Pound Sterling",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "AUD": "Australian Dollar",
}
# The emulator's fixed exchange rates, in US dollars per unit, for every date: a rate between
# two currencies is the ratio of theirs (see docs/emulator.md, Multicurrency).
DOLLARS_PER_UNIT = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "CAD": Decimal("0.73"),
    "AUD": Decimal("0.66"),
}
RATE_PLACES = Decimal("0.000001")


def clean(body: dict[str, Any]) -> dict[str, Any]:
    """Drop what the server owns and the empty strings python-quickbooks sends for unset fields."""
    return {
        key: copy.deepcopy(value)
        for key, value in body.items()
        if key not in SERVER_OWNED and value is not None and value != "" and not key.startswith("_")
    }


def currency_ref(ctx: Ctx) -> dict[str, str]:
    code = ctx.company["currency"]
    return {"value": code, "name": CURRENCY_NAMES.get(code, code)}


def multicurrency(ctx: Ctx) -> bool:
    prefs = singleton(ctx, "Preferences")
    return bool((prefs.get("CurrencyPrefs") or {}).get("MultiCurrencyEnabled"))


def known_currency(code: str, element: str = "CurrencyRef") -> dict[str, str]:
    if code not in CURRENCY_NAMES:
        raise faults.invalid_value(element, f"{element}: unsupported currency {code!r}")
    return {"value": code, "name": CURRENCY_NAMES[code]}


def rate_of(ctx: Ctx, code: str) -> Decimal:
    """Home-currency units per unit of `code` (the fixed table's ratio; 1 for the home one)."""
    home = ctx.company["currency"]
    known_currency(code, "sourcecurrencycode")
    if code == home:
        return Decimal(1)
    if home not in DOLLARS_PER_UNIT:
        raise faults.business(f"The emulator keeps no exchange rates into {home}.")
    return (DOLLARS_PER_UNIT[code] / DOLLARS_PER_UNIT[home]).quantize(RATE_PLACES)


def exchange_rate(ctx: Ctx, source: str | None, as_of: str | None) -> dict[str, Any]:
    """`GET /exchangerate?sourcecurrencycode=EUR&asofdate=2026-03-28`: the rate into the home
    currency on that date (today when none is given). Multicurrency companies only."""
    if not multicurrency(ctx):
        raise faults.business("Exchange rates are available only when multicurrency is on.")
    if not source:
        raise faults.required("sourcecurrencycode")
    code = source.strip().upper()
    return {
        "ExchangeRate": {
            "SyncToken": "0",
            "domain": "QBO",
            "AsOfDate": as_of or today(),
            "SourceCurrencyCode": code,
            "TargetCurrencyCode": ctx.company["currency"],
            "Rate": out(rate_of(ctx, code)),
            "sparse": False,
            "MetaData": {"LastUpdatedTime": qbo_timestamp()},
        }
    }


def home_amounts(form: dict[str, Any]) -> None:
    """HomeTotalAmt and HomeBalance: the amounts times the transaction's ExchangeRate, which is
    there only when multicurrency is on (Intuit fills them in only then)."""
    rate = number(form.get("ExchangeRate"), "ExchangeRate")
    if rate is None:
        return
    form["HomeTotalAmt"] = out(money(Decimal(str(form.get("TotalAmt", 0))) * rate))
    if "Balance" in form:
        form["HomeBalance"] = out(money(Decimal(str(form["Balance"])) * rate))


def customer_currency(ctx: Ctx, obj: dict[str, Any], current: dict[str, Any] | None) -> None:
    """A customer's currency is chosen when it is created (a foreign one only with
    multicurrency on) and never changes after."""
    home = currency_ref(ctx)
    sent = ref_value(obj.get("CurrencyRef"))
    if current is not None:
        was = ref_value(current.get("CurrencyRef")) or home["value"]
        if sent and sent != was:
            raise faults.business(
                f"The currency of a customer can't be changed: this one is in {was}. "
                f"Add a new customer in {sent} instead."
            )
        obj["CurrencyRef"] = copy.deepcopy(current.get("CurrencyRef") or home)
        return
    if sent and sent != home["value"]:
        if not multicurrency(ctx):
            raise faults.business(
                f"The customer can't be in {sent}: multicurrency is off, so every customer "
                f"is in {home['value']}."
            )
        obj["CurrencyRef"] = known_currency(sent)
        return
    obj["CurrencyRef"] = home


def find(ctx: Ctx, entity: str, ident: Any) -> dict[str, Any]:
    obj = table(ctx.company, entity).get(str(ident))
    if obj is None:
        raise faults.not_found(entity, str(ident))
    return obj


def find_ref(ctx: Ctx, entity: str, ref: Any, element: str) -> dict[str, Any]:
    """Resolve a reference such as CustomerRef; inactive or missing targets are invalid."""
    if not isinstance(ref, dict) or ref.get("value") in (None, ""):
        raise faults.required(element)
    obj = table(ctx.company, entity).get(str(ref["value"]))
    if obj is None or obj.get("Active") is False:
        raise faults.invalid_reference(element, ref.get("value"))
    return obj


def by_name(ctx: Ctx, entity: str, name: str, field: str = "Name") -> dict[str, Any] | None:
    wanted = name.strip().casefold()
    for obj in table(ctx.company, entity).values():
        if str(obj.get(field, "")).strip().casefold() == wanted:
            return obj
    return None


def check_sync_token(entity: str, current: dict[str, Any], body: dict[str, Any]) -> None:
    if body.get("SyncToken") in (None, ""):
        raise faults.required("SyncToken")
    if str(body["SyncToken"]) != str(current.get("SyncToken")):
        raise faults.stale(entity)


def merged_for_update(entity: str, current: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Sparse updates change only the fields sent (a sent Line list replaces the whole list);
    full updates replace the object, so fields left out are cleared."""
    incoming = clean(body)
    if body.get("sparse") in (True, "true"):
        merged = copy.deepcopy(current) | incoming
    else:
        merged = incoming
        for key in ("Id", "SyncToken", "MetaData", "domain"):
            merged[key] = copy.deepcopy(current[key])
        for key, value in current.items():
            if key.startswith("_"):
                merged[key] = copy.deepcopy(value)
    merged["sparse"] = False
    return merged


# -- name lists ------------------------------------------------------------------------------
def prepare_customer(ctx: Ctx, obj: dict[str, Any], current: dict[str, Any] | None) -> None:
    for key in CUSTOMER_OWNED:
        obj.pop(key, None)
    if not obj.get("DisplayName"):
        parts = [obj.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
        name = " ".join(str(p) for p in parts if p) or obj.get("CompanyName")
        if not name:
            raise faults.no_name()
        obj["DisplayName"] = name
    obj["DisplayName"] = str(obj["DisplayName"]).strip()
    for entity in PEOPLE:
        other = by_name(ctx, entity, obj["DisplayName"], "DisplayName")
        if other is not None and (current is None or other["Id"] != current["Id"]):
            raise faults.duplicate_name(other["Id"])
    obj.setdefault("Active", True)
    obj.setdefault("Taxable", True)
    obj.setdefault("Job", False)
    obj.setdefault("BillWithParent", False)
    obj.setdefault("PreferredDeliveryMethod", "Print")
    obj.setdefault("PrintOnCheckName", obj["DisplayName"])
    customer_currency(ctx, obj, current)
    obj["FullyQualifiedName"] = obj["DisplayName"]
    obj["Balance"] = current.get("Balance", 0.0) if current else 0.0
    obj["BalanceWithJobs"] = obj["Balance"]


def prepare_item(ctx: Ctx, obj: dict[str, Any], current: dict[str, Any] | None) -> None:
    if not obj.get("Name"):
        raise faults.required("Name")
    other = by_name(ctx, "Item", obj["Name"])
    if other is not None and (current is None or other["Id"] != current["Id"]):
        raise faults.duplicate_name(other["Id"])
    obj.setdefault("Type", "Service")
    kind = obj["Type"]
    if kind in ("Service", "NonInventory", "Inventory"):
        find_ref(ctx, "Account", obj.get("IncomeAccountRef"), "IncomeAccountRef")
    if kind == "Inventory":
        find_ref(ctx, "Account", obj.get("AssetAccountRef"), "AssetAccountRef")
        find_ref(ctx, "Account", obj.get("ExpenseAccountRef"), "ExpenseAccountRef")
        if not obj.get("InvStartDate"):
            raise faults.required("InvStartDate")
        obj.setdefault("TrackQtyOnHand", True)
        obj.setdefault("QtyOnHand", 0)
    obj.setdefault("Active", True)
    obj.setdefault("Taxable", False)
    obj.setdefault("UnitPrice", 0)
    obj.setdefault("TrackQtyOnHand", False)
    obj["FullyQualifiedName"] = obj["Name"]


def prepare_account(ctx: Ctx, obj: dict[str, Any], current: dict[str, Any] | None) -> None:
    if not obj.get("Name"):
        raise faults.required("Name")
    other = by_name(ctx, "Account", obj["Name"])
    if other is not None and (current is None or other["Id"] != current["Id"]):
        raise faults.duplicate_name(other["Id"])
    kind = obj.get("AccountType")
    if not kind and not obj.get("AccountSubType"):
        raise faults.QBOFault(
            6010,
            "Invalid Account.AccountType && Account.SubType",
            "Either an Account.AccountType or an Account.AccountSubType must be specified",
        )
    classification, subtype = ACCOUNT_CLASSIFICATION.get(kind or "", ("Expense", ""))
    obj.setdefault("AccountType", kind or "Expense")
    obj.setdefault("AccountSubType", subtype)
    obj["Classification"] = classification
    obj.setdefault("Active", True)
    obj.setdefault("SubAccount", False)
    obj.setdefault("CurrencyRef", currency_ref(ctx))
    obj["FullyQualifiedName"] = obj["Name"]
    obj["CurrentBalance"] = current.get("CurrentBalance", 0) if current else 0
    obj["CurrentBalanceWithSubAccounts"] = obj["CurrentBalance"]


PREPARERS = {"Customer": prepare_customer, "Item": prepare_item, "Account": prepare_account}


def create_name(ctx: Ctx, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    obj = clean(body)
    PREPARERS[entity](ctx, obj, None)
    obj["Id"] = allocate_id(ctx.company)
    obj["domain"] = "QBO"
    obj["sparse"] = False
    stamp_created(obj)
    table(ctx.company, entity)[obj["Id"]] = obj
    ctx.note(entity, obj, "Create")
    return obj


def update_name(ctx: Ctx, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("Id") in (None, ""):
        raise faults.required("Id")
    current = find(ctx, entity, body["Id"])
    check_sync_token(entity, current, body)
    obj = merged_for_update(entity, current, body)
    PREPARERS[entity](ctx, obj, current)
    stamp_updated(obj)
    table(ctx.company, entity)[obj["Id"]] = obj
    # Intuit announces making a name-list entry inactive as a Delete.
    ctx.note(
        entity, obj, "Delete" if obj.get("Active") is False and current.get("Active") else "Update"
    )
    return obj


# -- singletons ------------------------------------------------------------------------------
def singleton(ctx: Ctx, entity: str) -> dict[str, Any]:
    objects = table(ctx.company, entity)
    return next(iter(objects.values()))


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def update_singleton(ctx: Ctx, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    """CompanyInfo and Preferences: Intuit only honours writable settings; nested settings are
    merged so a sparse Preferences update leaves sibling settings alone."""
    current = singleton(ctx, entity)
    check_sync_token(entity, current, body)
    obj = deep_merge(current, clean(body))
    obj["sparse"] = False
    stamp_updated(obj)
    table(ctx.company, entity)[obj["Id"]] = obj
    ctx.note(entity, obj, "Update")
    return obj


def answer(entity: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {entity: public(obj)}
