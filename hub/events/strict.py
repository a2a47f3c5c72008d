"""``Strict``, the base of every value a host sends: unknown fields refused, values frozen,
text stripped.

Separate so that each event value's module builds on the same rules without importing another
value's module for them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
