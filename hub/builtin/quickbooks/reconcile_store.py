"""What reconcile keeps: each run's findings (so the Reconcile page shows the last one without
reading QuickBooks again) and the fixes asked for, which the ``reconcile-work`` job applies."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlmodel import SQLModel

from hub.clock import utcnow

if TYPE_CHECKING:
    from hub import Context
    from hub.builtin.quickbooks.reconcile_findings import Report

# The same metadata as the plugin's SQLModel tables, so the check that migrations match the
# models sees these too.
metadata = SQLModel.metadata

RUNS = Table(
    "qbo_reconcile_run", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    # asked (waits for the job) | running | done | failed
    Column("status", String(12), nullable=False),
    Column("since", Date, nullable=True),
    Column("asked_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    Column("report", Text, nullable=True),  # Report.as_json(), as JSON
    Column("error", Text, nullable=True),
)

FIXES = Table(
    "qbo_reconcile_fix", metadata,
    Column("finding_id", String(40), primary_key=True),
    Column("action", String(12), primary_key=True),  # fix | accept
    Column("kind", String(24), nullable=False),
    Column("subject", String(320), nullable=False),
    # requested | done | failed
    Column("status", String(12), nullable=False),
    Column("finding", Text, nullable=False),  # Finding.as_json(), as JSON
    Column("result", Text, nullable=True),
    Column("requested_at", DateTime, nullable=False),
    Column("done_at", DateTime, nullable=True),
)


def ask_run(ctx: Context, since: date | None) -> int:
    def write(conn: Connection) -> int:
        waiting = conn.execute(select(RUNS.c.pk).where(RUNS.c.status == "asked")).first()
        if waiting is not None:
            return int(waiting.pk)
        made = conn.execute(insert(RUNS).values(status="asked", since=since,
                                                asked_at=utcnow())).inserted_primary_key
        assert made is not None
        return int(made[0])
    return ctx.write(write)


def asked_runs(ctx: Context) -> list[dict[str, Any]]:
    with ctx.reading() as conn:
        return [dict(r) for r in conn.execute(select(RUNS).where(
            RUNS.c.status.in_(("asked", "running"))).order_by(RUNS.c.pk)).mappings()]


def start_run(ctx: Context, pk: int | None, since: date | None) -> int:
    """The run ``pk`` (asked for) as running, or a new one."""
    def write(conn: Connection) -> int:
        if pk is not None:
            conn.execute(update(RUNS).where(RUNS.c.pk == pk).values(status="running"))
            return pk
        made = conn.execute(insert(RUNS).values(status="running", since=since,
                                                asked_at=utcnow())).inserted_primary_key
        assert made is not None
        return int(made[0])
    return ctx.write(write)


def finish_run(ctx: Context, pk: int, report: Report | None, error: str | None = None) -> None:
    ctx.write(lambda conn: conn.execute(update(RUNS).where(RUNS.c.pk == pk).values(
        status="failed" if report is None else "done", finished_at=utcnow(),
        report=None if report is None else json.dumps(report.as_json(), default=str),
        error=error)))


def latest_run(ctx: Context) -> dict[str, Any] | None:
    """The last finished run, its report parsed."""
    with ctx.reading() as conn:
        row = conn.execute(select(RUNS).where(RUNS.c.status == "done")
                           .order_by(RUNS.c.pk.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["report"] = json.loads(row["report"] or "{}")
    return out


def ask_fixes(ctx: Context, findings: list[dict[str, Any]], action: str = "fix") -> int:
    """Store a fix asked for each finding (again if it failed), unless it was settled the
    other way (its QuickBooks version accepted, or fixed); how many are new."""
    now = utcnow()

    def write(conn: Connection) -> int:
        new = 0
        for f in findings:
            other = conn.execute(select(FIXES.c.action).where(
                (FIXES.c.finding_id == f["id"]) & (FIXES.c.action != action)
                & FIXES.c.status.in_(("requested", "done")))).first()
            if other is not None:
                continue  # settled the other way (accepted, or fixed): never both
            key = (FIXES.c.finding_id == f["id"]) & (FIXES.c.action == action)
            row = conn.execute(select(FIXES.c.status).where(key)).first()
            if row is None:
                conn.execute(insert(FIXES).values(
                    finding_id=f["id"], action=action, kind=f["kind"], subject=f["subject"],
                    status="requested", finding=json.dumps(f, default=str),
                    requested_at=now))
                new += 1
            elif row.status == "failed":
                conn.execute(update(FIXES).where(key).values(status="requested",
                                                              requested_at=now))
                new += 1
        return new
    return ctx.write(write)


def waiting_fixes(ctx: Context) -> list[dict[str, Any]]:
    """Fixes to apply: asked for, or failed before (a retry of the job tries them again)."""
    with ctx.reading() as conn:
        rows = conn.execute(select(FIXES).where(FIXES.c.status.in_(("requested", "failed")))
                            .order_by(FIXES.c.requested_at)).mappings()
        return [dict(r) | {"finding": json.loads(r["finding"])} for r in rows]


def fixes_by_finding(ctx: Context) -> dict[str, dict[str, Any]]:
    with ctx.reading() as conn:
        return {r["finding_id"]: dict(r) for r in conn.execute(select(FIXES)).mappings()}


def finish_fix(ctx: Context, finding_id: str, action: str, status: str, result: str) -> None:
    done_at: datetime | None = utcnow() if status == "done" else None
    ctx.write(lambda conn: conn.execute(update(FIXES).where(
        (FIXES.c.finding_id == finding_id) & (FIXES.c.action == action)).values(
        status=status, result=result[:2000], done_at=done_at)))
