"""Activity: every event, newest first, with what each plugin did about it, and the operator's
two actions on a stuck delivery: send it again (Retry) or stop trying (Dismiss)."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from hub import host_webhooks
from hub.plugins.registry import hookimpl_for
from hub.ui import queries
from hub.ui.blueprint import bp, current_hub, safe_next
from hub.undo import UNDO_HOOK, UndoRefused, request_undo

STATUSES = ("attention", "dead", "waiting", "pending", "done", "skipped")
# Far past any real page; a larger offset is out of PostgreSQL's range (a 500, not a page).
MAX_PAGE = 1_000_000


def _text(name: str, limit: int) -> str:
    # No NUL: PostgreSQL refuses one in any text it is sent, a search term included.
    return request.args.get(name, "")[:limit].replace("\x00", "")


def _filters() -> queries.Filters:
    status = request.args.get("status", "")
    return queries.Filters(
        about=_text("about", 300),
        q=_text("q", 300),
        status=status if status in STATUSES else "",
        plugin=_text("plugin", 100),
    )


def _page() -> int:
    try:
        return min(MAX_PAGE, max(1, int(request.args.get("page", "1")[:20])))
    except ValueError:
        return 1


@bp.get("/activity")
def activity() -> Any:
    hub = current_hub()
    filters, page = _filters(), _page()
    events, total = queries.list_events(hub, filters, page)
    pages = max(1, math.ceil(total / queries.PAGE_SIZE))
    if page > pages:  # an old link to a page that no longer exists: show the last one
        return redirect(page_url(filters, pages))
    return render_template(
        "ui/activity.html", nav="activity", events=events, total=total, page=page,
        pages=pages, filters=filters, plugins=queries.delivery_plugins(hub),
        here=request.full_path if request.query_string else request.path,
        parked_host=host_webhooks.parked(hub.context("host_webhooks", "ui", "-")),
        host_window=host_webhooks.window(),
    )


# Row numbers are PostgreSQL integers: a larger one in a URL is a 404, not an out-of-range error.
@bp.get("/activity/events/<int(max=2147483647):pk>")
def event(pk: int) -> Any:
    found = queries.event_detail(current_hub(), pk)
    if found is None:
        abort(404)
    hub = current_hub()
    for d in found.deliveries:
        # Undo is offered for what a host event's delivery wrote, by a plugin that can.
        d["undoable"] = (found.source == "host" and bool(found.subject)
                         and hookimpl_for(hub.pm, UNDO_HOOK, d["plugin"]) is not None)
        d["subject"] = found.subject
    data = json.dumps(found.data, indent=2, ensure_ascii=False, sort_keys=False)
    return render_template("ui/event.html", nav="activity", event=found, data=data,
                           here=request.path)


@bp.post("/activity/deliveries/<int(max=2147483647):pk>/retry")
def retry(pk: int) -> Any:
    if current_hub().retry([pk]):
        flash("Sent again. It will be tried in the next few seconds.")
    else:
        flash("Nothing to retry: that delivery already finished or was dismissed.")
    return redirect(safe_next(request.form.get("next"), "ui.activity"))


@bp.post("/activity/deliveries/<int(max=2147483647):pk>/undo")
def undo(pk: int) -> Any:
    hub = current_hub()
    found = queries.delivery_event(hub, pk)
    if found is None:
        abort(404)
    source, key, plugin = found
    try:
        flash(request_undo(hub, key, plugin, source=source))
    except UndoRefused as exc:
        flash(f"Not undone: {exc}.")
    return redirect(safe_next(request.form.get("next"), "ui.activity"))


@bp.post("/activity/deliveries/<int(max=2147483647):pk>/dismiss")
def dismiss(pk: int) -> Any:
    if current_hub().dismiss([pk]):
        flash("Dismissed. The hub will not try it again; it stays listed here.")
    else:
        flash("Nothing to dismiss: that delivery already finished.")
    return redirect(safe_next(request.form.get("next"), "ui.activity"))


@bp.post("/activity/plugins/<name>/retry")
def retry_all(name: str) -> Any:
    """Every stopped or waiting delivery of one integration, sent again (after a fix)."""
    hub = current_hub()
    if name not in hub.infos:
        abort(404)
    count = hub.retry(queries.stuck_deliveries(hub, name))
    flash(f"Sent {count} again. They will be tried in the next few seconds." if count
          else "Nothing was waiting to be sent again.")
    return redirect(safe_next(request.form.get("next"), "ui.activity"))


@bp.app_template_global("ui_page_url")
def page_url(filters: queries.Filters, page: int) -> str:
    values: dict[str, Any] = {**filters.args(), "page": page}
    return url_for("ui.activity", **values)
