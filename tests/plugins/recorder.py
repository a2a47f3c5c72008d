"""A plugin that records every call it receives, so tests can see what a plugin sees.

Each test makes its own ``Recorder`` (no module state), optionally told to fail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hub import hookimpl
from hub.events import Booking, BookingCheck, Contact, Invoice, Payment, Verdict
from hub.plugins.context import Context


class RecorderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field("recorder", description="a name for the log")
    limit: int = Field(3, ge=1, description="a number that must be positive")
    token: SecretStr | None = Field(None, description="a secret, stored encrypted")


class Recorder:
    def __init__(self, fail: Callable[[str, Context], None] | None = None) -> None:
        self.calls: list[tuple[str, Any, Context]] = []
        self.fail = fail
        self.verdict: Verdict | None = None
        self.job_runs: list[Context] = []

    def _record(self, hook: str, value: Any, ctx: Context) -> None:
        self.calls.append((hook, value, ctx))
        if self.fail:
            self.fail(hook, ctx)

    def hooks(self) -> list[str]:
        return [hook for hook, _value, _ctx in self.calls]

    @hookimpl
    def on_contact(self, contact: Contact, ctx: Context) -> None:
        self._record("on_contact", contact, ctx)

    @hookimpl
    def on_payment(self, payment: Payment, ctx: Context) -> None:
        self._record("on_payment", payment, ctx)

    @hookimpl
    def on_invoice_sent(self, invoice: Invoice, ctx: Context) -> None:
        self._record("on_invoice_sent", invoice, ctx)

    @hookimpl
    def on_invoice_updated(self, invoice: Invoice, ctx: Context) -> None:
        self._record("on_invoice_updated", invoice, ctx)

    @hookimpl
    def on_invoice_paid(self, invoice: Invoice, ctx: Context) -> None:
        self._record("on_invoice_paid", invoice, ctx)

    @hookimpl
    def on_booking(self, booking: Booking, ctx: Context) -> None:
        self._record("on_booking", booking, ctx)

    @hookimpl
    def on_host_event(self, message: dict[str, Any], ctx: Context) -> None:
        self._record("on_host_event", message, ctx)

    @hookimpl
    def check_booking(self, check: BookingCheck, ctx: Context) -> Verdict | None:
        self.calls.append(("check_booking", check, ctx))
        return self.verdict

    @hookimpl
    def check_billing(self, booking: Booking, ctx: Context) -> Verdict | None:
        self.calls.append(("check_billing", booking, ctx))
        return self.verdict

    @hookimpl
    def settings_model(self) -> type[BaseModel]:
        return RecorderSettings

    @hookimpl
    def scheduled(self, register: Any, settings: RecorderSettings) -> None:
        register("tick", self._job, minutes=5, description=f"every 5 minutes ({settings.label})")

    def _job(self, ctx: Context) -> None:
        self.job_runs.append(ctx)
