"""What one write needs: the company it changes and the list of changes to announce."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .clock import qbo_timestamp
from .store import Company


@dataclass
class Change:
    entity: str
    ident: str
    operation: str  # Create, Update, Delete, Merge, Void, Emailed (Intuit's operation names)
    last_updated: str
    # A Merge names the surviving object (ident) and the one merged into it and gone.
    deleted_id: str = ""


@dataclass
class Ctx:
    company: Company
    changes: list[Change] = field(default_factory=list)

    @property
    def realm(self) -> str:
        return str(self.company["realm"])

    @property
    def us(self) -> bool:
        return self.company.get("country", "US") == "US"

    def note(self, entity: str, obj: dict[str, Any], operation: str) -> None:
        stamp = (obj.get("MetaData") or {}).get("LastUpdatedTime") or qbo_timestamp()
        self.changes.append(Change(entity, str(obj["Id"]), operation, stamp))
