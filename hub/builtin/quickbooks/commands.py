"""The ``hub quickbooks`` commands this plugin adds to the hub's command line."""

from __future__ import annotations

import re
import sys
from datetime import date
from typing import TYPE_CHECKING

import click

from hub import Context
from hub.bounds import EARLIEST, LATEST, shown
from hub.builtin.quickbooks import connect, connection, reads, sweep
from hub.clock import as_utc, utcnow
from hub.roles.cli import pass_context

if TYPE_CHECKING:
    from hub.builtin.quickbooks.reconcile_findings import Report

# Intuit's company ids are 15 to 19 ASCII digits; a refresh token is about 50 printable ASCII
# characters. Anything far past either is a paste gone wrong, refused before it reaches Intuit.
_REALM_ID = re.compile(r"[0-9]{1,32}")
_TOKEN = re.compile(r"[\x21-\x7e]{1,2000}")
_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


def _realm_id(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    value = value.strip()
    if not _REALM_ID.fullmatch(value):
        raise click.BadParameter(f"{shown(value)} is not a company id: it is a number (digits "
                                 "0-9), shown in QuickBooks under Settings → Account and "
                                 "settings → Billing")
    return value


_NOT_A_TOKEN = ("is not a refresh token: one is letters and digits without spaces (copy it "
                "again, e.g. from Intuit's OAuth Playground)")


def _refresh_token(_ctx: click.Context, _param: click.Parameter,
                   value: str | None) -> str | None:
    if value is None:
        return None  # read from QBO_REFRESH_TOKEN or standard input (_token_elsewhere)
    value = value.strip()
    if not _TOKEN.fullmatch(value):
        raise click.BadParameter(_NOT_A_TOKEN)
    return value


def _token_elsewhere(ctx: Context) -> str:
    """``--refresh-token`` left out: the token from ``QBO_REFRESH_TOKEN`` (the hub's
    configuration, so a ``.env`` file may set it), else standard input (asked for, hidden, on a
    terminal; a line when piped), so it never sits in ``ps`` or the shell's history."""
    configured = ctx.config.qbo_refresh_token
    if configured is not None:
        value, where = configured.strip(), "QBO_REFRESH_TOKEN"
    else:
        if sys.stdin.isatty():
            value = click.prompt("Refresh token", hide_input=True, err=True).strip()
        else:
            value = sys.stdin.readline().strip()
        where = "standard input"
        if not value:
            raise click.UsageError("no refresh token: set QBO_REFRESH_TOKEN, pipe it on "
                                   "standard input, or give --refresh-token")
    if not _TOKEN.fullmatch(value):
        raise click.UsageError(f"{where} {_NOT_A_TOKEN}")
    return value


def _month(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    found = _MONTH.fullmatch(value)
    if not found:
        raise click.BadParameter(f"{shown(value)}: write the month as YYYY-MM, e.g. 2026-03")
    if not EARLIEST.year <= int(found[1]) <= LATEST.year:
        raise click.BadParameter(f"{shown(value)}: the month must be from {EARLIEST:%Y-%m} to "
                                 f"{LATEST:%Y-%m}, as every date the hub keeps")
    return value


@click.group("quickbooks")
def quickbooks() -> None:
    """QuickBooks Online: connect, status, disconnect, and the bundled emulator."""


@quickbooks.command("connect")
@click.option("--realm-id", required=True, callback=_realm_id,
              help="the QuickBooks company id")
@click.option("--refresh-token", default=None, callback=_refresh_token,
              help="a refresh token for that company; left out, it is read from "
                   "QBO_REFRESH_TOKEN or standard input, and stays out of ps and the shell's "
                   "history")
@click.option("--environment", type=click.Choice(["sandbox", "production"]), default=None,
              help="default: QBO_ENVIRONMENT")
@click.option("--review-first", is_flag=True,
              help="hold the first import until `hub quickbooks import` (see what it would "
                   "bring with `hub quickbooks import --preview`); without it, it starts now")
@pass_context("quickbooks")
def connect_command(ctx: Context, realm_id: str, refresh_token: str | None,
                    environment: str | None, review_first: bool) -> None:
    """Connect without a browser: the refresh token is exchanged now."""
    if refresh_token is None:
        refresh_token = _token_elsewhere(ctx)
    try:
        click.echo(connect.with_refresh_token(ctx, realm_id, refresh_token, environment,
                                              review_first=review_first))
    except connect.ConnectError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if review_first and connection.first_import_held(ctx):
        click.echo("The first import waits: `hub quickbooks import --preview` shows what it "
                   "would bring, `hub quickbooks import` starts it")


@quickbooks.command("status")
@pass_context("quickbooks")
def status_command(ctx: Context) -> None:
    """Connected or not, which company, environment, token expiry, last sync, reads."""
    s = connection.status(ctx)
    if s["status"] == "not_connected":
        click.echo("QuickBooks: not connected (`hub quickbooks connect`, or Connect on the "
                   "Integrations page)")
        return
    label = {"connected": "connected", "needs_reconnect": "NEEDS RECONNECT",
             "disconnected": "disconnected"}[s["status"]]
    click.echo(f"QuickBooks: {label}")
    click.echo(f"  company          {s['company_name'] or '?'} (realm {s['realm_id']})")
    click.echo(f"  environment      {s['environment']}")
    if s["status"] == "connected":
        click.echo(f"  access token     expires in "
                   f"{connection.expires_in(s['access_expires_at'])}")
        click.echo(f"  refresh token    lapses in "
                   f"{connection.expires_in(s['refresh_expires_at'])} unless used; hard limit "
                   f"in {connection.expires_in(s['refresh_hard_expires_at'])}")
    synced = s["last_sync_at"]
    click.echo("  last sync        " + (f"{synced:%Y-%m-%d %H:%M} UTC" if synced else "never"))
    usage = reads.for_operator(ctx, s["realm_id"])
    click.echo(f"  reads            {usage['shown']}")
    if s["last_error"]:
        click.echo(f"  last error       {s['last_error']}")
    for warning in s["warnings"] + usage["warnings"] + sweep.warnings(ctx):
        click.echo(f"  warning: {warning}")


@quickbooks.command("import")
@click.option("--preview", is_flag=True,
              help="only show what the import would do; nothing is imported")
@click.option("--invoices", is_flag=True,
              help="with --preview: the invoices too, even with the import_invoices setting "
                   "off (they are then shown as what turning it on would bring: the import "
                   "follows the setting)")
@click.option("--json", "as_json", is_flag=True, help="with --preview: as JSON")
@pass_context("quickbooks")
def import_command(ctx: Context, preview: bool, invoices: bool, as_json: bool) -> None:
    """Bring QuickBooks' customers (and, with import_invoices, invoices) to the host now; with
    --preview, say first what that would do: new contacts, customers matching a host contact
    by email, emails shared by two customers, invoices and their total."""
    import json

    from hub.builtin.quickbooks import preview as previews
    from hub.builtin.quickbooks.settings import Settings

    if connection.status(ctx)["status"] != "connected":
        click.echo("QuickBooks is not connected: `hub quickbooks connect` first", err=True)
        sys.exit(1)
    if not preview:
        if as_json or invoices:
            raise click.UsageError("--json and --invoices go with --preview")
        click.echo(connect.import_now(ctx))
        return
    settings = ctx.settings
    wanted = invoices or (isinstance(settings, Settings) and settings.import_invoices)
    # The import follows the settings alone: --invoices only reads them for the preview.
    shown = previews.preview(ctx, invoices=wanted)
    if as_json:
        click.echo(json.dumps(shown.as_json(), indent=2))
        return
    for line in previews.lines(shown):
        click.echo(line)
    click.echo("Nothing was imported. `hub quickbooks import` to import.")


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{shown(value)}: write the day as YYYY-MM-DD, e.g. "
                                 "2026-03-01") from None
    if not EARLIEST <= day <= LATEST:
        raise click.BadParameter(f"{shown(value)}: the day must be from {EARLIEST} to "
                                 f"{LATEST}, as every date the hub keeps")
    return day


@quickbooks.command("reconcile")
@click.option("--since", default=None, callback=_day, metavar="YYYY-MM-DD",
              help="only what the host last stated on or after that day")
@click.option("--json", "as_json", is_flag=True, help="the findings as JSON")
@click.option("--fix", is_flag=True,
              help="apply the safe fixes (those writing what the host says or what the hub "
                   "wrote, or telling the host), as deliveries of the reconcile-work job")
@pass_context("quickbooks")
def reconcile_command(ctx: Context, since: date | None, as_json: bool, fix: bool) -> None:
    """Compare what the host last said of each linked contact, invoice and payment with what
    QuickBooks holds now, and say what differs and the fix."""
    from hub.builtin.quickbooks import reconcile, reconcile_findings, reconcile_store

    if connection.status(ctx)["status"] != "connected":
        click.echo("QuickBooks is not connected: `hub quickbooks connect` first", err=True)
        sys.exit(1)

    def progress(done: int, total: int, what: str) -> None:
        click.echo(f"{what}: {done}/{total}", err=True)

    pk = reconcile_store.start_run(ctx, None, since)
    try:
        report = reconcile.run(ctx, since, progress)
    except Exception as exc:
        reconcile_store.finish_run(ctx, pk, None, str(exc))
        raise
    reconcile_store.finish_run(ctx, pk, report)
    if as_json:
        click.echo(reconcile_findings.dumps(report))
    else:
        for line in reconcile_findings.lines(report):
            click.echo(line)
    if fix:
        click.echo(_fix_said(ctx, report), err=as_json)


def _fix_said(ctx: Context, report: Report) -> str:
    """--fix: ask for the safe fixes (``reconcile_fixes.ask`` queues the reconcile-work job for
    a worker; nothing is applied in this process) and say where each stands now, read back from
    what the job records: applied (by a worker quick enough, or before this run yet differing
    still), failed, or waiting for a worker."""
    from hub.builtin.quickbooks import reconcile_fixes, reconcile_store

    safe = [f for f in report.findings if f.safe]
    by_hand = (f"; {len(report.findings) - len(safe)} left to fix by hand"
               if len(safe) < len(report.findings) else "")
    if not safe:
        return "no safe fixes to ask for" + by_hand
    asked = utcnow()
    reconcile_fixes.ask(ctx, [f.as_json() for f in safe])
    fixes = reconcile_store.fixes_by_finding(ctx)
    now = before = failed = 0
    for f in safe:
        fix = fixes.get(f.id) or {}
        if fix.get("status") == "failed":
            failed += 1
        elif fix.get("status") == "done":
            if fix.get("done_at") is not None and as_utc(fix["done_at"]) >= asked:
                now += 1
            else:
                before += 1
    waiting = len(safe) - now - before - failed
    parts = []
    if now:
        parts.append(f"{now} applied by the hub's worker already, each noted in Activity")
    if before:
        parts.append(f"{before} applied before this run, yet QuickBooks still differs: see "
                     "Activity, or fix them by hand")
    if failed:
        parts.append(f"{failed} failed (Activity says why)")
    if waiting:
        parts.append(f"{waiting} queued for the reconcile-work job: a running hub (`hub "
                     "serve`) applies them within seconds, each noted in Activity; with no hub "
                     "running, `hub jobs run quickbooks.reconcile-work` applies them here")
    return f"{len(safe)} safe fixes: " + "; ".join(parts) + by_hand


@quickbooks.command("disconnect")
@pass_context("quickbooks")
def disconnect_command(ctx: Context) -> None:
    """Revoke the tokens at Intuit and delete them here; synced records stay in QuickBooks."""
    click.echo(connection.disconnect(ctx))


@click.group("billing")
def billing_group() -> None:
    """Monthly summary invoices for bookings billed monthly."""


@billing_group.command("close-month")
@click.argument("month", metavar="YYYY-MM", callback=_month)
@pass_context("quickbooks")
def close_month_command(ctx: Context, month: str) -> None:
    """Bill now the monthly-billed sessions of MONTH; running it again bills nothing twice."""
    from hub.builtin.quickbooks import billing
    from hub.builtin.quickbooks.settings import Settings

    settings = ctx.settings
    assert isinstance(settings, Settings)
    results = billing.close_month(ctx, month, settings)
    if not results:
        click.echo(f"{month}: no monthly sessions waiting to be billed")
    for i, result in enumerate(results, start=1):
        state = f"FAILED: {result.error}" if result.error else "billed"
        click.echo(f"[{i}/{len(results)}] {result.client}: {result.sessions} sessions, "
                   f"invoice {result.invoice_external_id} {state}")
    if any(r.error for r in results):
        sys.exit(1)


def add_commands(cli: click.Group) -> None:
    from hub.builtin.quickbooks.emulator.cli import command as emulator

    group = click.Group("quickbooks", help=quickbooks.help,
                        commands=dict(quickbooks.commands))
    group.add_command(emulator)
    cli.add_command(group)
    cli.add_command(click.Group("billing", help=billing_group.help,
                                commands=dict(billing_group.commands)))
