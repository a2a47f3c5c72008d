"""A company's minute of QuickBooks requests, shared by every worker process through one row.

Intuit's 500 requests a minute (and 40 batch calls) are the company's, however many ``hub
worker`` processes call. Each process leases a block of the minute at a time (one write a block,
not a call): the row keeps the blocks granted in the last minute or so, and a new block is
granted only while the blocks still counting at Intuit leave room for it.

A block's requests start within ``LIFE`` seconds of its lease. Until its process reports back,
a block counts in full until ``LIFE + MARGIN`` seconds after its lease plus a minute (its last
request reached Intuit by then); the process reports back when it leases its next block: how
many requests it really sent and when the last answer came, after which the block counts only
those, until a minute after that answer. So a busy process gives back what it did not use, and
an idle one's block simply runs out.

The row also says how many processes are calling now; each keeps to its share of the limits a
row cannot share cheaply: the 10 requests at once and 10 a second.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.builtin.quickbooks.models import QboCallBudget
from hub.clock import utcnow

if TYPE_CHECKING:
    from hub import Context

MINUTE = 60.0
LIFE = 3.0  # seconds a leased block's requests may start in
MARGIN = 1.0  # a request leaves for Intuit at most this long before it arrives there
SKEW = 0.5  # clocks of the processes' machines may differ this much (NTP keeps far less)
ACTIVE = 10.0  # a process that leased this recently is calling now
TABLE = QboCallBudget.__table__  # type: ignore[attr-defined]


def _epoch() -> float:
    return time.time()  # looked up at each call, so freezegun can move it


@dataclass(eq=False)
class Block:
    """Requests this process may start until ``until`` (its own monotonic clock)."""

    grant: str
    granted_at: float  # the shared clock (epoch seconds), as written in the row
    leased_at: float  # this process's clock at the same moment
    size: int
    batches: int
    sharing: int  # processes calling now, this one included
    used: int = 0
    batches_used: int = 0
    in_flight: int = 0
    last_end: float | None = None

    @property
    def until(self) -> float:
        return self.leased_at + LIFE

    def fits(self, start: float, batch: bool) -> bool:
        return (start <= self.until and self.used < self.size
                and (not batch or self.batches_used < self.batches))

    def report(self) -> dict[str, Any]:
        """What the row keeps of a finished block: requests sent, and the last answer."""
        last = self.granted_at + ((self.last_end or self.leased_at) - self.leased_at)
        return {"id": self.grant, "u": self.used, "ub": self.batches_used, "e": last}


@dataclass
class Refused:
    """No room in the shared minute until ``after`` seconds from now."""

    after: float


def _counts(grant: dict[str, Any]) -> tuple[int, int, float]:
    """(requests, batch calls, when it stops counting) for one granted block."""
    if grant.get("e") is not None:  # reported back: what was really sent, until its minute ends
        return grant["u"], grant["ub"], grant["e"] + MINUTE + SKEW
    return grant["n"], grant["b"], grant["t"] + LIFE + MARGIN + MINUTE + SKEW


class Ledger:
    """The shared minute of one company, in ``qbo_call_budget``."""

    def __init__(self, ctx: Context, realm_id: str, holder: str | None = None) -> None:
        self.ctx = ctx
        self.realm_id = realm_id
        self.holder = holder or uuid.uuid4().hex[:12]  # this process (one Ledger a process)

    def lease(self, size: int, batch: bool, per_minute: int, batch_per_minute: int,
              leased_at: float, reports: list[Block]) -> Block | Refused:
        """Grant up to ``size`` requests now (one a batch call if ``batch``), reporting on
        this process's finished blocks, or say when there will be room."""
        finished = {b.grant: b.report() for b in reports}

        def take(conn: Connection) -> Block | Refused:
            now = _epoch()
            row = conn.execute(select(TABLE.c.grants).where(TABLE.c.realm_id == self.realm_id)
                               .with_for_update()).scalar()
            if row is None:  # the company's first lease
                conn.execute(insert(TABLE).values(realm_id=self.realm_id, grants="[]",
                                                  updated_at=utcnow()))
                row = "[]"
            grants = []
            for grant in json.loads(row):
                grant.update(finished.get(grant["id"], {}))
                if _counts(grant)[2] > now:
                    grants.append(grant)
            requests = sum(_counts(g)[0] for g in grants)
            batches = sum(_counts(g)[1] for g in grants)
            room = per_minute - requests
            if room < 1 or (batch and batches >= batch_per_minute):
                _write(conn, self.realm_id, grants)  # the reports still count
                return Refused(_room_in(grants, now, per_minute, batch_per_minute, batch))
            grant = {"id": uuid.uuid4().hex[:12], "h": self.holder, "t": now,
                     "n": min(size, room), "b": 1 if batch else 0}
            grants.append(grant)
            _write(conn, self.realm_id, grants)
            sharing = len({g["h"] for g in grants if g["t"] > now - ACTIVE})
            return Block(grant["id"], now, leased_at, grant["n"], grant["b"], sharing)

        try:
            result: Block | Refused = self.ctx.write(take)
        except IntegrityError:  # another process made the company's row first: use it
            result = self.ctx.write(take)
        return result


def _write(conn: Connection, realm_id: str, grants: list[dict[str, Any]]) -> None:
    conn.execute(update(TABLE).where(TABLE.c.realm_id == realm_id).values(
        grants=json.dumps(grants, separators=(",", ":")), updated_at=utcnow()))


def _room_in(grants: list[dict[str, Any]], now: float, per_minute: int,
             batch_per_minute: int, batch: bool) -> float:
    """Seconds until blocks stop counting and leave room for one more request."""
    requests = sum(_counts(g)[0] for g in grants)
    batches = sum(_counts(g)[1] for g in grants)
    for n, b, ends in sorted((_counts(g) for g in grants), key=lambda c: c[2]):
        requests, batches = requests - n, batches - b
        if requests < per_minute and (not batch or batches < batch_per_minute):
            return max(0.05, ends - now)
    return 1.0
