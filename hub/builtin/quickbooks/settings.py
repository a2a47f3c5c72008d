"""The QuickBooks plugin's settings, as the host contract names them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.events import Email


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    import_contacts: bool = Field(
        True, description="bring QuickBooks customers into the host (contact.imported)")
    import_invoices: bool = Field(
        False, description="bring historical QuickBooks invoices into the host; never pushed back")
    poll_minutes: int = Field(
        5, ge=1, le=1440, description="how often the change sweep runs besides webhooks")
    default_item: str = Field(
        "Services", min_length=1, max_length=100,
        description="the QuickBooks service item for lines whose item it does not know")
    create_missing_items: bool = Field(
        False, description="create a service item for a line whose item QuickBooks does not "
        "have (off: such lines use default_item, so a misspelling never makes a junk item)")
    income_account: str | None = Field(
        None, description="the income account for items the hub creates (empty: the company's "
        "default)")
    send_invoices: bool = Field(
        False, description="ask QuickBooks to email each new invoice to the customer")
    billing: Literal["per_session", "monthly"] = Field(
        "per_session",
        description="per_session or monthly, for bookings that do not say")
    monthly_clients: list[Email] = Field(
        default_factory=list, description="emails of clients billed monthly")
    monthly_services: list[str] = Field(
        default_factory=list, description="service names billed monthly")
    tax_codes: list[str] = Field(
        default_factory=list, description="outside the US: the QuickBooks sales tax code for a "
        "host tax rate that several codes charge, as RATE=CODE NAME (e.g. 0=Exempt); a rate "
        "not named uses its code with the lowest Id")

    us_sales_tax: Literal["in_prices", "as_tax"] = Field(
        "in_prices", description="US companies: in_prices folds the host's tax into the line "
        "prices (QuickBooks books it as income, as the CRM seed describes); as_tax makes the "
        "lines taxable and writes the host's tax as QuickBooks sales tax (a liability to the "
        "tax agency), its total the same")
    monthly_read_allowance: int = Field(
        500_000, ge=1, le=1_000_000_000, description="reads (and queries) Intuit allows your "
        "app a month, its CorePlus calls: 500,000 on the free Builder tier of the App Partner "
        "Program, more on paid tiers; the QuickBooks card warns at 80 %")

    reconcile_days: int = Field(
        0, ge=0, le=366, description="every how many days reconcile compares the host with "
        "QuickBooks by itself and tells the host a summary (reconcile.summary); 0: never (run "
        "it from the Reconcile page or hub quickbooks reconcile)")

    timezone: str = Field(
        "", description="the company's time zone as an IANA name, e.g. America/Los_Angeles: an "
        "invoice due today is overdue only once the company's day is over (empty: this "
        "machine's zone)")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        value = value.strip()
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{value!r} is not a time zone: use an IANA name such as "
                                 "America/Los_Angeles or Europe/London") from None
        return value

    @field_validator("tax_codes")
    @classmethod
    def _rate_and_name(cls, value: list[str]) -> list[str]:
        rates = [tax_code_entry(entry)[0] for entry in value]
        if len(set(rates)) != len(rates):
            raise ValueError("names a code for the same rate twice: keep one RATE=CODE NAME "
                             "per rate")
        return value

    @field_validator("income_account", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        return None if value == "" else value


def tax_code_entry(entry: str) -> tuple[Decimal, str]:
    """(rate, code name) from one ``tax_codes`` entry such as "20=20.0% S"."""
    rate, sep, name = entry.partition("=")
    try:
        percent = Decimal(rate.strip().rstrip("%").strip())
    except InvalidOperation:
        percent = Decimal(-1)
    if not sep or not name.strip() or not percent.is_finite() or not 0 <= percent <= 100:
        raise ValueError(f"{entry!r} is not RATE=CODE NAME: write the host's percent, an equals "
                         "sign and the QuickBooks tax code's name, e.g. 20=20.0% S")
    return percent, name.strip()
