"""Facts about the connected company that shape the sync: name, country, home currency,
multicurrency, discounts, sales tax. Read at connect and kept on the connection."""

from __future__ import annotations

from typing import Any

from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.preferences import Preferences

from hub import Context
from hub.builtin.quickbooks import faults, oauth
from hub.builtin.quickbooks.client import make_client
from hub.config import Config


class CompanyNotFound(Exception):
    """The company is not in this environment (or this app may not read it)."""


def _read(api_base: str, realm_id: str, access_token: str,
          ctx: Context | None) -> dict[str, Any]:
    qb = make_client(api_base, realm_id, access_token, ctx)
    try:
        info = CompanyInfo.get(realm_id, qb=qb).to_dict()
        prefs = Preferences.get(qb=qb).to_dict()
    except faults.AuthFailed as exc:
        raise CompanyNotFound(f"QuickBooks refused access to company {realm_id}: {exc}"
                              ) from None
    except faults.Fault as exc:
        if exc.status in (403, 404) or exc.code in ("610", "3100"):
            raise CompanyNotFound(f"company {realm_id} was not found ({exc})") from None
        raise
    finally:
        # A hub's session is its thread's, kept for the next call; one of its own is closed.
        qb.session.finish() if ctx is not None else qb.session.close()
    currency = prefs.get("CurrencyPrefs") or {}
    sales = prefs.get("SalesFormsPrefs") or {}
    tax = prefs.get("TaxPrefs") or {}
    address = info.get("CompanyAddr") or {}
    return {
        "name": info.get("CompanyName"),
        "country": info.get("Country") or address.get("Country"),
        "home_currency": (currency.get("HomeCurrency") or {}).get("value") or "USD",
        "multicurrency": bool(currency.get("MultiCurrencyEnabled")),
        "allow_discount": bool(sales.get("AllowDiscount")),
        "using_sales_tax": bool(tax.get("UsingSalesTax")),
        "automated_sales_tax": bool(tax.get("PartnerTaxEnabled")),
    }


def read_company(config: Config, environment: str, realm_id: str,
                 access_token: str, ctx: Context | None = None) -> dict[str, Any]:
    """The company's facts; a company that lives in the *other* environment is said plainly.
    Its reads count against ``ctx``'s hub's limits and meter (none: against nothing)."""
    try:
        return _read(oauth.api_base(config, environment), realm_id, access_token, ctx)
    except CompanyNotFound:
        if config.qbo_api_base:  # pointed at one QuickBooks explicitly: no other to try
            raise
        other = "production" if environment == "sandbox" else "sandbox"
        try:
            _read(oauth.api_base(config, other), realm_id, access_token, ctx)
        except Exception:
            raise CompanyNotFound(
                f"company {realm_id} was not found in QuickBooks {environment}") from None
        raise CompanyNotFound(
            f"company {realm_id} is a {other} company, but the hub is set to {environment}: "
            f"set QBO_ENVIRONMENT={other} and connect again") from None
