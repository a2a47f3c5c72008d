"""A plugin declaring a setting of every kind and no bounds of its own beyond what a plugin
author would write, so the bounds every setting is held to are what is tried. A module, so the
command line can load it by name (``HUB_PLUGINS=typed=tests.plugins.typed_settings``)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from hub import hookimpl
from hub.events import Email


class TypedSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field("front desk", description="one line, no max_length of its own")
    note: str = Field("", max_length=5000, description="a message: may run over lines")
    count: int = Field(3, description="a whole number, unbounded as declared")
    ratio: float = Field(1.5, description="a float, unbounded as declared")
    amount: Decimal = Field(Decimal("2.50"), description="a decimal, unbounded as declared")
    names: list[str] = Field(default_factory=list, description="names, commas between")
    emails: list[Email] = Field(default_factory=list, description="emails, commas between")
    token: SecretStr | None = Field(None, description="a secret")


@hookimpl
def settings_model() -> type[BaseModel]:
    return TypedSettings


class Drifting(BaseModel):
    """A plugin's slip: a validator that changes its own output again on every read."""

    sign_off: str = Field("Thanks.", description="a closing line, given a full stop")

    @field_validator("sign_off")
    @classmethod
    def _full_stop(cls, value: str) -> str:
        return value + "."  # the slip: "Thanks." becomes "Thanks.." when read back


class DriftingPlugin:
    @hookimpl
    def settings_model(self) -> type[BaseModel]:
        return Drifting
