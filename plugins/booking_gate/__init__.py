"""Refuses new bookings for a client whose unpaid balance exceeds the operator's threshold."""

from __future__ import annotations

from pydantic import BaseModel

from hub import hookimpl
from plugins.booking_gate.settings import Settings

# Off until the operator picks a threshold: the default (0.00) would refuse anyone who owes.
ENABLED_BY_DEFAULT = False


@hookimpl
def settings_model() -> type[BaseModel]:
    return Settings
