"""Settings → Integrations: a card per plugin with its switch, health, own card and settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from hub.hub import Hub
from hub.plugins.context import CallContext
from hub.plugins.registry import PluginInfo, call_for, hookimpl_for
from hub.plugins.states import Refused, SettingsError
from hub.ui import forms, queries
from hub.ui.blueprint import bp, current_hub, title

log = logging.getLogger("hub.ui")


@dataclass
class Card:
    info: PluginInfo
    title: str
    description: str
    enabled: bool
    health: queries.Health
    own_html: Markup | None = None
    fields: list[forms.FormField] = field(default_factory=list)
    general_errors: list[str] = field(default_factory=list)
    open_settings: bool = False
    #: Why the hub will not switch it on (``PluginStates.refusal``): shown, and the switch off.
    refused: str | None = None
    #: The operator's switch, apart from whether it runs: on but waiting for a need stays
    #: switchable off (one the hub refused at discovery never runs, so it reads off).
    switched_on: bool = False


def _own_card(hub: Hub, name: str) -> Markup | None:
    """The plugin's own HTML. Marked safe by contract: the ``ui_card`` hook promises markup it
    has escaped itself. A plugin that raises loses its card, never the page."""
    if hookimpl_for(hub.pm, "ui_card", name) is None:
        return None
    try:
        html = call_for(hub.pm, "ui_card", name, ctx=CallContext(hub, "ui", "-"))
    except Exception:
        log.exception("plugin %s failed to draw its card", name)
        return Markup('<p class="muted">This integration could not show its status just now; '
                      "the hub's log has the details.</p>")
    return Markup(html) if html else None


def _cards(hub: Hub, failed: str | None = None, submitted: dict[str, str] | None = None,
           errors: list[tuple[str, str]] | None = None) -> list[Card]:
    health = queries.plugin_health(hub)
    cards = []
    for name, info in hub.infos.items():
        enabled = hub.states.enabled(name)
        card = Card(info=info, title=_title(info), description=_description(info),
                    enabled=enabled, health=health.get(name, queries.Health()),
                    refused=None if enabled else hub.states.refusal(name),
                    switched_on=info.refused is None and hub.states.switched_on(name))
        if enabled:
            card.own_html = _own_card(hub, name)
        model = info.settings_model
        if model is not None:
            if name == failed:
                by_field, card.general_errors = forms.errors_by_field(model, errors or [])
                card.fields = forms.fields_for(model, _current(hub, name), submitted,
                                               by_field)
                card.open_settings = True
            else:
                card.fields = forms.fields_for(model, _current(hub, name))
        cards.append(card)
    # Built-ins first, each group alphabetically: the same order on every visit.
    cards.sort(key=lambda c: (not c.info.builtin, c.info.name))
    return cards


def _title(info: PluginInfo) -> str:
    # An optional module-level TITLE ("QuickBooks"), read like ENABLED_BY_DEFAULT is.
    return getattr(info.module, "TITLE", None) or title(info.name)


def _description(info: PluginInfo) -> str:
    """The first paragraph of the plugin's docstring (``PluginInfo.description`` keeps only its
    first line, which may stop mid-sentence), without reStructuredText's literal quotes."""
    doc = (getattr(info.module, "__doc__", None) or "").strip()
    paragraph = " ".join(doc.split("\n\n", 1)[0].split()) if doc else info.description
    return paragraph.replace("``", "")


def _current(hub: Hub, name: str) -> Any:
    try:
        return hub.states.settings(name)
    except Exception:
        # Stored settings a newer plugin version refuses: show the defaults, let them be fixed.
        log.exception("stored settings of %s no longer validate", name)
        return None


def _info(name: str) -> PluginInfo:
    info = current_hub().infos.get(name)
    if info is None:
        abort(404)
    return info


@bp.get("/")
def home() -> Any:
    return redirect(url_for("ui.integrations"))


@bp.get("/integrations")
def integrations() -> Any:
    return render_template("ui/integrations.html", cards=_cards(current_hub()),
                           nav="integrations")


@bp.post("/integrations/<name>/enabled")
def set_enabled(name: str) -> Any:
    info = _info(name)
    on = request.form.get("enabled") == "on"
    hub = current_hub()
    try:
        hub.states.set_enabled(info.name, on)
    except Refused as exc:
        return render_template("ui/integrations.html", cards=_cards(hub), nav="integrations",
                               problem=f"{_title(info)} was not turned on: {exc.reason}."), 409
    flash(f"{_title(info)} is now {'on' if on else 'off'}.")
    return redirect(url_for("ui.integrations") + f"#plugin-{name}")


@bp.post("/integrations/<name>/settings")
def save_settings(name: str) -> Any:
    info = _info(name)
    hub = current_hub()
    model = info.settings_model
    if model is None:
        abort(404)
    submitted = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        hub.states.update_settings(name, forms.updates_from(model, submitted))
    except SettingsError as exc:
        cards = _cards(hub, failed=name, submitted=submitted, errors=exc.errors)
        return render_template("ui/integrations.html", cards=cards, nav="integrations",
                               problem=f"{_title(info)}: some settings were not saved. "
                                       "See the notes beside them."), 422
    flash(f"{_title(info)} settings saved.")
    return redirect(url_for("ui.integrations") + f"#plugin-{name}")

