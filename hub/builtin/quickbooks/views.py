"""The QuickBooks routes: Connect, the OAuth callback, Disconnect. Guarded by the settings UI's
own sign-in and CSRF checks (``hub.ui.operator_only``), as every page of the UI is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, redirect, render_template, request
from markupsafe import Markup, escape

from hub import Context
from hub.builtin.quickbooks import connect, connection, preview, reads, sweep
from hub.builtin.quickbooks.settings import Settings
from hub.clock import utcnow
from hub.ui import csrf_field, operator_only, plugin_context, when

bp = Blueprint("quickbooks", __name__, url_prefix="/quickbooks", template_folder="templates")


def _ctx() -> Context:
    return plugin_context("quickbooks")


def _page(title: str, message: str, kind: str, status: int = 200,
          again: bool = False, choose: bool = False) -> tuple[str, int]:
    """An answer inside the settings UI's layout (its header, navigation and sign-out), with
    the way back to Integrations and, after a refused connect, a button to try again; with
    ``choose``, the first import's "Import now" and "Review first"."""
    return render_template("quickbooks/message.html", nav="integrations", title=title,
                           message=message[:1].upper() + message[1:], kind=kind,
                           again=again, choose=choose), status


@bp.post("/connect")
@operator_only
def start() -> Any:
    try:
        return redirect(connect.start_browser(_ctx()))
    except connect.ConnectError as exc:
        return _page("QuickBooks not connected", str(exc), "error", 400)


@bp.get("/callback")
@operator_only
def callback() -> Any:
    args = request.args
    try:
        message = connect.finish_browser(
            _ctx(), state=args.get("state"), code=args.get("code"),
            realm_id=args.get("realmId"), error=args.get("error"))
    except connect.ConnectError as exc:
        return _page("QuickBooks not connected", str(exc), "error", 400, again=True)
    held = connection.first_import_held(_ctx())
    if held:
        message += (". Nothing is imported yet: import QuickBooks' customers now, or first "
                    "review what the import would bring")
    return _page("QuickBooks connected", message, "ok", choose=held)


@bp.get("/import/preview")
@operator_only
def import_preview() -> Any:
    ctx = _ctx()
    if connection.status(ctx)["status"] != "connected":
        return _page("QuickBooks not connected", "connect QuickBooks first", "error", 400)
    settings = ctx.settings
    shown = preview.preview(ctx, invoices=isinstance(settings, Settings)
                            and settings.import_invoices)
    return render_template("quickbooks/preview.html", nav="integrations", shown=shown,
                           held=connection.first_import_held(ctx))


@bp.post("/import")
@operator_only
def import_now() -> Any:
    ctx = _ctx()
    if connection.status(ctx)["status"] != "connected":
        return _page("QuickBooks not connected", "connect QuickBooks first", "error", 400)
    return _page("QuickBooks import started", connect.import_now(ctx), "ok")


@bp.get("/reconcile")
@operator_only
def reconcile_page() -> Any:
    """The last reconcile's findings, each with its Fix (and, where there is one, Accept
    QuickBooks' version), Fix all safe ones, and Check now."""
    from hub.builtin.quickbooks import reconcile_store

    ctx = _ctx()
    last = reconcile_store.latest_run(ctx)
    report = last["report"] if last else None
    fixes = reconcile_store.fixes_by_finding(ctx)
    findings = [dict(f, asked=fixes.get(f["id"])) for f in (report or {}).get("findings", [])]
    return render_template(
        "quickbooks/reconcile.html", nav="integrations", last=last, report=report,
        findings=findings, checking=bool(reconcile_store.asked_runs(ctx)),
        connected=connection.status(ctx)["status"] == "connected",
        open_safe=sum(1 for f in findings if f["safe"] and not _settled(f["asked"])))


def _settled(asked: dict[str, Any] | None) -> bool:
    return asked is not None and asked["status"] in ("requested", "done")


@bp.post("/reconcile/check")
@operator_only
def reconcile_check() -> Any:
    """Check now: a run of the reconcile-work job, its progress on Activity."""
    from hub.builtin.quickbooks import reconcile_store

    ctx = _ctx()
    if connection.status(ctx)["status"] != "connected":
        return _page("QuickBooks not connected", "connect QuickBooks first", "error", 400)
    reconcile_store.ask_run(ctx, None)
    ctx.run_job("reconcile-work")
    return redirect("/quickbooks/reconcile")


@bp.post("/reconcile/fix")
@operator_only
def reconcile_fix() -> Any:
    """Fix one finding (``finding``), accept QuickBooks' version of it (``action=accept``),
    or fix every safe one (``finding=safe``): stored, applied by the reconcile-work job."""
    from hub.builtin.quickbooks import reconcile_fixes

    action = "accept" if request.form.get("action") == "accept" else "fix"
    wanted = request.form.getlist("finding")[:500]
    reconcile_fixes.ask_ids(_ctx(), wanted, action)
    return redirect("/quickbooks/reconcile")


@bp.post("/disconnect")
@operator_only
def disconnect() -> Any:
    return _page("QuickBooks disconnected", connection.disconnect(_ctx()), "ok")


def card(ctx: Context) -> str:
    """The QuickBooks card on the Integrations page: state, company, tokens, reads, the
    sweep, actions."""
    s = connection.status(ctx)
    token = str(csrf_field())
    connect_form = ('<form method="post" action="/quickbooks/connect" class="inline">'
                    + token.replace("{", "{{").replace("}", "}}")
                    + '<button type="submit" class="primary">{label}</button></form>')
    if s["status"] in ("not_connected", "disconnected"):
        return ('<p><span class="pill off">Not connected</span></p>'
                + connect_form.format(label="Connect QuickBooks"))
    parts = []
    usage = reads.for_operator(ctx, s["realm_id"])
    if s["status"] == "needs_reconnect":
        parts.append('<p><span class="pill bad">Needs reconnect</span> '
                     f'{escape(s["last_error"] or "")}</p>')
        parts.append(connect_form.format(label="Reconnect"))
    else:
        parts.append('<p><span class="pill ok">QuickBooks connected</span></p>')
    if connection.first_import_held(ctx):
        parts.append('<p class="warning">Nothing imported yet: the first import waits for '
                     'you.</p><form method="post" action="/quickbooks/import" class="inline">'
                     + token + '<button type="submit" class="primary">Import now</button>'
                     '</form> <a class="button" href="/quickbooks/import/preview">Review '
                     'first</a>')
    parts.append(
        f'<dl class="facts"><dt>Company</dt><dd>{escape(s["company_name"] or s["realm_id"])}'
        f'</dd><dt>Environment</dt><dd>{escape(s["environment"])}</dd>'
        f'<dt>Access token</dt><dd>{_ends(s["access_expires_at"], "expires", "expired")}</dd>'
        f'<dt>Refresh token</dt><dd>'
        f'{_ends(s["refresh_expires_at"], "lapses", "lapsed", " unless used")}</dd>'
        f'<dt>Last sync</dt><dd>{when(s["last_sync_at"]) or "never"}</dd>'
        f'<dt>Reads</dt><dd>{escape(usage["shown"])}</dd></dl>')
    warnings = s["warnings"] + usage["warnings"] + sweep.warnings(ctx)
    parts += [f'<p class="warning">{escape(w)}</p>' for w in warnings]
    parts.append('<a class="button" href="/quickbooks/reconcile">Reconcile</a> '
                 '<form method="post" action="/quickbooks/disconnect" class="inline">'
                 + token + '<button type="submit" class="danger">Disconnect</button></form>')
    return "".join(parts)


def _ends(at: datetime | None, future: str, past: str, unless: str = "") -> Markup:
    """"expires in 58 minutes", "lapsed 2 days ago": the exact time on hover."""
    if at is None:
        return Markup("unknown")
    if at <= utcnow():
        return Markup("{} {}").format(past, when(at))
    return Markup("{} {}{}").format(future, when(at), unless)
