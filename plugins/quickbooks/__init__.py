"""Keeps customers, invoices and payments in step with QuickBooks Online."""

from __future__ import annotations

from pydantic import BaseModel

from hub import hookimpl
from plugins.quickbooks.settings import Settings


@hookimpl
def settings_model() -> type[BaseModel]:
    return Settings
