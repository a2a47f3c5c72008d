"""Reads metered by Intuit: counted per company and month, and held back when the month's
allowance seems used up.

Under Intuit's App Partner Program, reads and queries ("CorePlus" calls: data out) are metered
by the month, writes ("Core": data in) are not; on the free Builder tier past 500,000 CorePlus
calls in a month "all further CorePlus API calls will be blocked until the following month",
answered 429. Intuit counts per workspace (every company the app reads); the hub counts its
own reads per company, in ``qbo_read_meter``, shown on the QuickBooks card and in ``hub
quickbooks status`` against ``monthly_read_allowance``.

A 429 looks the same whether the minute or the month is spent. The first is waited out as
Intuit asks (60 s, everything held: ``hub.builtin.quickbooks.limits``); a read refused again after
that minute means the month: reads are then held an hour at a time (the next after the hour
tries again), while writes, which the allowance does not meter, go on.

Counts are kept in memory per process and written when a session with the hub's database
closes (once per delivery that read something), so a delivery that only writes costs no extra
write; a process killed mid-delivery loses that delivery's count.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, DateTime, Integer, String, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from hub.builtin.quickbooks.settings import Settings
from hub.clock import utcnow
from hub.errors import RetryLater

if TYPE_CHECKING:
    from hub import Context

log = logging.getLogger(__name__)

HOLD = 3600.0  # seconds reads wait once the allowance seems used up, before trying again
MINUTE = 60.0  # Intuit's "wait 60 seconds before retrying" after a 429
WARN_AT = 0.8  # share of the allowance at which the operator is warned


class QboReadMeter(SQLModel, table=True):
    """A company's reads in one calendar month (UTC), and whether reads are held back."""

    __tablename__ = "qbo_read_meter"

    realm_id: str = Field(sa_column=Column(String(40), primary_key=True))
    month: str = Field(sa_column=Column(String(7), primary_key=True))  # YYYY-MM
    reads: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    # Reads wait until then: QuickBooks refused them past the minute (None: not held).
    held_until: datetime | None = Field(default=None, sa_type=DateTime())
    updated_at: datetime = Field(sa_type=DateTime())


TABLE = QboReadMeter.__table__  # type: ignore[attr-defined]


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def _next_month(moment: datetime) -> datetime:
    first = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


def _monotonic() -> float:
    return time.monotonic()  # looked up at each call, so freezegun can move it


@dataclass
class Meter:
    """One company's reads in this process (beside its ``limits.CompanyLimit``)."""

    clock: Any = _monotonic
    pending: Counter[str] = field(default_factory=Counter)  # month → reads not yet written
    first_refusal: float | None = None  # when a read was first refused since one was answered
    held_until: float = float("-inf")  # reads wait until then (this clock)
    held_until_at: datetime | None = None  # the same moment, UTC, as the table keeps it
    dirty: bool = False  # the hold changed here and the table does not know yet

    def __post_init__(self) -> None:
        self.lock = threading.Lock()

    def check(self) -> None:
        """Raise ``RetryLater`` (no attempt spent, the plugin's other work not held) while reads
        are held."""
        with self.lock:
            wait = self.held_until - self.clock()
        if wait > 0:
            raise self.held()

    def held(self) -> RetryLater:
        with self.lock:
            wait = max(0.0, self.held_until - self.clock())
            until = self.held_until_at
        shown = f" until {until:%Y-%m-%d %H:%M} UTC" if until else ""
        return RetryLater(f"the monthly read allowance may be used up: QuickBooks has refused "
                          f"reads for more than a minute; reads wait{shown}, then try again, "
                          "and writes go on", timedelta(seconds=wait + 0.05),
                          spend_attempt=False)

    def answered(self, reads: int) -> None:
        with self.lock:
            self.pending[month_of(utcnow())] += reads
            self.first_refusal = None
            if self.held_until_at is not None:  # answered again: the allowance is back
                self.held_until, self.held_until_at, self.dirty = float("-inf"), None, True

    def refused(self, sent_at: float) -> bool:
        """A read sent at ``sent_at`` was answered 429. True when that is the month's allowance
        (a read refused once Intuit's minute after the first refusal was over): reads are held
        from now, for an hour or until the month ends."""
        with self.lock:
            if self.first_refusal is None or sent_at < self.first_refusal + MINUTE - 1.0:
                if self.first_refusal is None:
                    self.first_refusal = self.clock()
                return False
            now, wall = self.clock(), utcnow()
            until = min(wall + timedelta(seconds=HOLD), _next_month(wall))
            self.held_until = now + (until - wall).total_seconds()
            self.held_until_at, self.dirty = until, True
            return True

    def flush(self, ctx: Context, realm_id: str) -> None:
        """Write the reads counted here and any change of the hold; take up a hold another
        process wrote. Never raises: a count that cannot be written waits for the next."""
        with self.lock:
            pending, self.pending = self.pending, Counter()
            dirty, held_at, self.dirty = self.dirty, self.held_until_at, False
        if not pending and not dirty:
            return
        try:
            try:
                stored = ctx.write(lambda conn: _record(conn, realm_id, pending, dirty, held_at))
            except IntegrityError:  # another process made the month's row first
                stored = ctx.write(lambda conn: _record(conn, realm_id, pending, dirty, held_at))
        except Exception:
            log.warning("QuickBooks reads could not be counted; trying again later",
                        exc_info=True)
            with self.lock:
                self.pending.update(pending)
                self.dirty = self.dirty or dirty
            return
        if dirty:
            return
        with self.lock:  # what another process learnt of the allowance holds here too
            if self.dirty:
                return
            wall = utcnow()
            if stored is not None and stored > wall:
                self.held_until = self.clock() + (stored - wall).total_seconds()
                self.held_until_at = stored
            elif stored is None and self.held_until_at is not None:
                self.held_until, self.held_until_at = float("-inf"), None


def _record(conn: Connection, realm_id: str, pending: Counter[str], dirty: bool,
            held_at: datetime | None) -> datetime | None:
    """Add ``pending`` reads to their months' rows (and the hold to this month's, if
    ``dirty``); returns this month's hold as stored."""
    now = utcnow()
    this_month = month_of(now)
    months = set(pending) | ({this_month} if dirty else set())
    for month in sorted(months):
        key = (TABLE.c.realm_id == realm_id) & (TABLE.c.month == month)
        values: dict[str, Any] = {"reads": TABLE.c.reads + pending.get(month, 0),
                                  "updated_at": now}
        if dirty and month == this_month:
            values["held_until"] = held_at
        if conn.execute(update(TABLE).where(key).values(**values)).rowcount == 0:
            conn.execute(insert(TABLE).values(
                realm_id=realm_id, month=month, reads=pending.get(month, 0),
                held_until=held_at if dirty and month == this_month else None, updated_at=now))
    return conn.execute(select(TABLE.c.held_until).where(
        (TABLE.c.realm_id == realm_id) & (TABLE.c.month == this_month))).scalar()


def for_operator(ctx: Context, realm_id: str) -> dict[str, Any]:
    """``usage`` against the operator's ``monthly_read_allowance``."""
    settings = ctx.settings
    allowance = (settings.monthly_read_allowance if isinstance(settings, Settings)
                 else Settings.model_fields["monthly_read_allowance"].default)
    return usage(ctx, realm_id, allowance)


def usage(ctx: Context, realm_id: str, allowance: int) -> dict[str, Any]:
    """This month's reads for the operator: the count, its share of ``allowance``, whether
    reads are held, and what to do."""
    now = utcnow()
    month = month_of(now)
    with ctx.reading() as conn:
        row = conn.execute(select(TABLE.c.reads, TABLE.c.held_until).where(
            (TABLE.c.realm_id == realm_id) & (TABLE.c.month == month))).first()
    count = row.reads if row else 0
    held = row.held_until if row and row.held_until and row.held_until > now else None
    share = count / allowance if allowance else 0.0
    warnings = []
    if held:
        warnings.append("the monthly read allowance may be used up: QuickBooks has refused "
                        "reads for more than a minute, so reads wait until "
                        f"{held:%Y-%m-%d %H:%M} UTC and then try again (an hour at a time); "
                        "writes go on. Intuit's usage chart (Intuit Developer, your app) shows "
                        "what is left; a higher App Partner Program tier allows more")
    if share >= WARN_AT:
        warnings.append(f"{count:,} QuickBooks reads this month, {share:.0%} of the "
                        f"{allowance:,} allowed (monthly_read_allowance): past Intuit's "
                        "allowance reads are refused until the month ends; move to a higher "
                        "tier of Intuit's App Partner Program, or set monthly_read_allowance "
                        "to what your tier allows")
    return {"month": month, "reads": count, "allowance": allowance, "share": share,
            "held_until": held, "warnings": warnings,
            "shown": f"{count:,} of {allowance:,} this month ({share:.0%})"}
