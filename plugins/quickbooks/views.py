"""The QuickBooks routes: Connect, the OAuth callback, Disconnect. Guarded by the settings UI's
own sign-in and CSRF checks (``hub.ui.operator_only``), as every page of the UI is."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template_string, request
from markupsafe import escape

from hub.hub import Hub
from hub.ui import csrf_field, operator_only
from plugins.quickbooks import connect, connection, reads, sweep

bp = Blueprint("quickbooks", __name__, url_prefix="/quickbooks")

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · Ledgerline Hub</title>
<link rel="stylesheet" href="/ui/static/hub.css"></head>
<body><main class="narrow"><h1>{{ title }}</h1>
<p class="{{ kind }}">{{ message }}</p>
<p><a class="button" href="/">Back to Integrations</a></p></main></body></html>"""


def _hub() -> Hub:
    return current_app.config["HUB"]  # type: ignore[no-any-return]


def _page(title: str, message: str, kind: str, status: int = 200) -> tuple[str, int]:
    return render_template_string(PAGE, title=title, message=message, kind=kind), status


@bp.post("/connect")
@operator_only
def start() -> Any:
    try:
        return redirect(connect.start_browser(_hub()))
    except connect.ConnectError as exc:
        return _page("QuickBooks not connected", str(exc), "error", 400)


@bp.get("/callback")
@operator_only
def callback() -> Any:
    args = request.args
    try:
        message = connect.finish_browser(
            _hub(), state=args.get("state"), code=args.get("code"),
            realm_id=args.get("realmId"), error=args.get("error"))
    except connect.ConnectError as exc:
        return _page("QuickBooks not connected", str(exc), "error", 400)
    return _page("QuickBooks connected", message, "ok")


@bp.post("/disconnect")
@operator_only
def disconnect() -> Any:
    return _page("QuickBooks disconnected", connection.disconnect(_hub()), "ok")


def card(hub: Hub) -> str:
    """The QuickBooks card on the Integrations page: state, company, tokens, reads, the
    sweep, actions."""
    s = connection.status(hub)
    token = str(csrf_field())
    connect_form = ('<form method="post" action="/quickbooks/connect" class="inline">'
                    + token.replace("{", "{{").replace("}", "}}")
                    + '<button type="submit" class="primary">{label}</button></form>')
    if s["status"] in ("not_connected", "disconnected"):
        return ('<p><span class="pill off">Not connected</span></p>'
                + connect_form.format(label="Connect QuickBooks"))
    parts = []
    usage = reads.for_operator(hub, s["realm_id"])
    if s["status"] == "needs_reconnect":
        parts.append('<p><span class="pill bad">Needs reconnect</span> '
                     f'{escape(s["last_error"] or "")}</p>')
        parts.append(connect_form.format(label="Reconnect"))
    else:
        parts.append('<p><span class="pill ok">QuickBooks connected</span></p>')
    parts.append(
        f'<dl class="facts"><dt>Company</dt><dd>{escape(s["company_name"] or s["realm_id"])}'
        f'</dd><dt>Environment</dt><dd>{escape(s["environment"])}</dd>'
        f'<dt>Access token</dt><dd>expires in '
        f'{escape(connection.expires_in(s["access_expires_at"]))}</dd>'
        f'<dt>Refresh token</dt><dd>lapses in '
        f'{escape(connection.expires_in(s["refresh_expires_at"]))} unless used</dd>'
        f'<dt>Last sync</dt><dd>{escape(str(s["last_sync_at"] or "never"))}</dd>'
        f'<dt>Reads</dt><dd>{escape(usage["shown"])}</dd></dl>')
    warnings = s["warnings"] + usage["warnings"] + sweep.warnings(hub)
    parts += [f'<p class="warning">{escape(w)}</p>' for w in warnings]
    parts.append('<form method="post" action="/quickbooks/disconnect" class="inline">'
                 + token + '<button type="submit" class="danger">Disconnect</button></form>')
    return "".join(parts)
