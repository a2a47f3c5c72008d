"""``hub jobs`` and ``hub events``: the work in the queue, scheduled jobs run by hand and events'
deliveries looked at and retried.

Separate from ``hub/roles/cli.py``, which only puts the groups together: these two are the
groups that read the queue's tables (``hub/queue/store.py``) and run deliveries here, in the
command's own process.
"""

from __future__ import annotations

import json
import sys

import click
from sqlalchemy import select

from hub.bounds import shown
from hub.clock import iso, utcnow
from hub.hub import Hub
from hub.plugins.registry import implementers
from hub.queue.db import reading
from hub.queue.store import DELIVERIES, EVENTS, RECEIVED_AT, read_time
from hub.roles.arguments import DELIVERY, check_event_id
from hub.roles.command_context import pass_hub
from hub.undo import UNDO_HOOK, UNDO_TYPE, UndoRefused, request_undo


@click.group()
def jobs() -> None:
    """The scheduled jobs plugins contribute."""


@jobs.command("list")
@pass_hub
def jobs_list(hub: Hub) -> None:
    """Each job, its schedule and its next run."""
    found = hub.jobs()
    if not found:
        click.echo("no scheduled jobs (no enabled plugin registers any)")
    for job in found.values():
        nxt = job.next_run()
        click.echo(f"{job.id:<32} {job.schedule:<24} next {iso(nxt) if nxt else '-'}"
                   + (f"  {job.description}" if job.description else ""))


@jobs.command("run")
@click.argument("job_id")
@pass_hub
def jobs_run(hub: Hub, job_id: str) -> None:
    """Run a job now, here, and say how it went."""
    from hub.plugins.jobs import fire
    from hub.queue.worker import run_due

    job = hub.jobs().get(job_id)
    if job is None:
        known = ", ".join(hub.jobs()) or "none"
        raise click.ClickException(f"no job {shown(job_id)}; jobs: {known} (see `hub jobs "
                                   "list`)")
    fired = fire(hub, job, utcnow())
    run_due(hub)
    with reading(hub.engine) as conn:
        row = conn.execute(select(DELIVERIES.c.status, DELIVERIES.c.last_error,
                                  DELIVERIES.c.result)
                           .where(DELIVERIES.c.event_pk == fired.pk)).one()
    click.echo(f"{job_id}: {row.status}" + (f" — {row.result}" if row.result else "")
               + (f" — {row.last_error}" if row.last_error else ""))
    if row.status not in ("done", "skipped"):
        sys.exit(1)


@click.group()
def events() -> None:
    """Events and their deliveries: list, look, and retry what was parked."""


# Where `hub events show` looks for an id, in turn: the host's events, then the jobs' firings
# (``reconcile-work@2026-...``) and the operator's own (an undo, ``undo:12:quickbooks``), then
# any a plugin published (``invoice:132:1`` from quickbooks).
_SOURCES = ("host", "scheduler", "operator")


def _undos(hub: Hub, source: str, key: str) -> list[dict[str, object]]:
    """The undos asked of this event's deliveries (``hub.undo``: one event per plugin, keyed
    ``undo:<event pk>:<plugin>``) and how each went: status, what it said, its error."""
    with reading(hub.engine) as conn:
        pk = conn.execute(select(EVENTS.c.pk).where(EVENTS.c.source == source,
                                                    EVENTS.c.key == key)).scalar()
        if pk is None:
            return []
        rows = conn.execute(
            select(EVENTS.c.key, RECEIVED_AT, DELIVERIES.c.plugin,
                   DELIVERIES.c.status, DELIVERIES.c.attempts, DELIVERIES.c.result,
                   DELIVERIES.c.last_error)
            .join(DELIVERIES, DELIVERIES.c.event_pk == EVENTS.c.pk)
            .where(EVENTS.c.source == "operator", EVENTS.c.type == UNDO_TYPE,
                   EVENTS.c.key.like(f"undo:{int(pk)}:%"))
            .order_by(EVENTS.c.pk)).all()
    return [{"id": r.key, "plugin": r.plugin,
             "asked_at": iso(asked) if (asked := read_time(r.received_at)) else None,
             "status": r.status, "attempts": r.attempts, "result": r.result,
             "last_error": r.last_error} for r in rows]


@events.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="how many of the newest events")
@click.option("--type", "event_type", default=None, help="only events of this type")
@click.option("--source", default="host", show_default=True,
              help="whose events: host, a plugin's (quickbooks: what it heard from QuickBooks), "
                   "scheduler, operator, or all")
@pass_hub
def events_list(hub: Hub, limit: int, event_type: str | None, source: str) -> None:
    """The newest events (the host's, unless --source says otherwise), each with its id and
    how each plugin's delivery stands, to find the id `show`, `retry` and `undo` take."""
    with reading(hub.engine) as conn:
        query = select(EVENTS.c.pk, EVENTS.c.key, EVENTS.c.type, EVENTS.c.source, RECEIVED_AT)
        if source != "all":
            query = query.where(EVENTS.c.source == source)
        if event_type:
            query = query.where(EVENTS.c.type == event_type)
        found = conn.execute(query.order_by(EVENTS.c.pk.desc()).limit(limit)).all()
        states: dict[int, list[str]] = {}
        if found:
            for d in conn.execute(select(DELIVERIES.c.event_pk, DELIVERIES.c.plugin,
                                         DELIVERIES.c.status)
                                  .where(DELIVERIES.c.event_pk.in_([e.pk for e in found]))
                                  .order_by(DELIVERIES.c.pk)):
                states.setdefault(d.event_pk, []).append(f"{d.plugin} {d.status}")
    if not found:
        click.echo("no events yet" + (f" of type {shown(event_type)}" if event_type else "")
                   + (f" from {shown(source)}" if source != "host" else ""))
    for e in found:
        received = read_time(e.received_at)
        click.echo(f"{iso(received) if received else '-':<20} {e.type:<16} {e.key}  "
                   + (f"(from {e.source}) " if e.source != "host" else "")
                   + (", ".join(states.get(e.pk, [])) or "no plugin takes it"))


@events.command("show")
@click.argument("event_id", callback=check_event_id)
@pass_hub
def events_show(hub: Hub, event_id: str) -> None:
    """An event's status and each plugin's delivery (what it said it did, or how far it has
    come), as the API shows it, with the undos asked of it and how they went. A job's run
    (`reconcile-work@...`) or an undo (`undo:...`) is found by its id too."""
    with reading(hub.engine) as conn:
        others = sorted(set(conn.execute(select(EVENTS.c.source).where(
            EVENTS.c.key == event_id)).scalars()) - set(_SOURCES))
    for source in (*_SOURCES, *others):  # then a plugin's: what QuickBooks told it, say
        view = hub.event(event_id, source=source)
        if view is not None:
            break
    else:
        raise click.ClickException(f"no event {event_id!r} (see `hub events list`, `hub events "
                                   "failed`, or Activity in the settings UI)")
    if source != "host":
        view["source"] = source
    view["undos"] = _undos(hub, source, event_id)
    click.echo(json.dumps(view, indent=2))


@events.command("failed")
@pass_hub
def events_failed(hub: Hub) -> None:
    """Deliveries that are parked (dead) or waiting, with their errors."""
    with reading(hub.engine) as conn:
        rows = conn.execute(
            select(DELIVERIES.c.pk, DELIVERIES.c.plugin, DELIVERIES.c.status,
                   DELIVERIES.c.attempts, DELIVERIES.c.last_error, EVENTS.c.key, EVENTS.c.type)
            .join(EVENTS, EVENTS.c.pk == DELIVERIES.c.event_pk)
            .where(DELIVERIES.c.status.in_(("dead", "waiting")))
            .order_by(DELIVERIES.c.pk)
        ).all()
    if not rows:
        click.echo("nothing parked or waiting")
    for r in rows:
        click.echo(f"#{r.pk} {r.status:<7} {r.plugin:<16} {r.type:<14} {r.key}  "
                   f"({r.attempts} attempts) {r.last_error}")


@events.command("retry")
@click.argument("event_id", required=False, callback=check_event_id)
@click.option("--delivery", "deliveries", multiple=True, type=DELIVERY,
              help="a delivery number from `hub events failed`")
@pass_hub
def events_retry(hub: Hub, event_id: str | None, deliveries: tuple[int, ...]) -> None:
    """Deliver a parked event (or single deliveries) again, with fresh attempts."""
    if not event_id and not deliveries:
        raise click.ClickException("name an event id or give --delivery N")
    count = hub.retry(list(deliveries)) if deliveries else 0
    if event_id:
        count += hub.retry_event(event_id)
    click.echo(f"{count} deliveries queued again")


@events.command("undo")
@click.argument("event_id", callback=check_event_id)
@click.option("--plugin", default=None,
              help="whose writes to take back (default: the one plugin that can undo)")
@pass_hub
def events_undo(hub: Hub, event_id: str, plugin: str | None) -> None:
    """Take back what a plugin's delivery of an event wrote outside (an invoice it created is
    voided...); later events about the same subject then wait for `hub events retry`."""
    if plugin is None:
        able = implementers(hub.pm, UNDO_HOOK)
        if len(able) != 1:
            raise click.ClickException(
                "name the plugin with --plugin: " + (", ".join(able) + " can undo" if able
                                                      else "no installed plugin can undo"))
        plugin = able[0]
    try:
        click.echo(request_undo(hub, event_id, plugin))
    except UndoRefused as exc:
        raise click.ClickException(f"not undone: {exc}") from None
