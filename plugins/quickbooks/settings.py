"""The QuickBooks plugin's settings, as the host contract names them."""

from __future__ import annotations

from typing import Literal

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

    @field_validator("income_account", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        return None if value == "" else value
