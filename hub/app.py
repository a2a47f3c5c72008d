"""The Flask application factory: one app per ``Hub``, nothing started as a side effect."""

from __future__ import annotations

from flask import Blueprint, Flask

from hub import api, ui
from hub.hub import Hub
from hub.intake import HotCalls
from hub.plugins import call_impl, hookimpl_for, implementers


def create_app(hub: Hub) -> Flask:
    app = Flask("hub")
    app.config.update(
        HUB=hub,
        SECRET_KEY=hub.config.secret_key,
        MAX_CONTENT_LENGTH=api.MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.register_blueprint(api.bp)
    app.register_blueprint(ui.bp)

    def register(blueprint: Blueprint) -> None:
        app.register_blueprint(blueprint)

    for plugin in implementers(hub.pm, "register_blueprints"):
        call_impl(hookimpl_for(hub.pm, "register_blueprints", plugin), register=register)

    # New events and booking checks are answered in front of Flask (hub.intake); Flask
    # answers all the rest.
    app.wsgi_app = HotCalls(app.wsgi_app, hub, api.MAX_BODY)  # type: ignore[method-assign]

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
