"""The Flask application factory: one app per ``Hub``, nothing started as a side effect."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

from hub import ui
from hub.clock import as_utc, iso
from hub.hub import Hub
from hub.ui import csrf
from hub.web import api, intake


class HubJSON(DefaultJSONProvider):
    """Flask's JSON with dates as the host contract writes them: a date ``2026-04-30``, an
    instant RFC 3339 in UTC (``2026-03-28T15:04:05Z``; a naive one is UTC, as the hub stores
    them). Flask's own provider writes both as HTTP dates (``Thu, 30 Apr 2026 00:00:00 GMT``),
    which no field of the OpenAPI document (``format: date``, ``date-time``) allows. Keys stay
    in the order they were put in."""

    sort_keys = False

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, datetime):  # before date: a datetime is a date too
            return iso(as_utc(o))
        if isinstance(o, date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(hub: Hub) -> Flask:
    app = Flask("hub")
    app.config.update(
        HUB=hub,
        SECRET_KEY=hub.config.secret_key,
        MAX_CONTENT_LENGTH=api.MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # HUB_PUBLIC_URL says https: the cookie is Secure even when the proxy in front is not
        # trusted (HUB_TRUSTED_PROXIES=0) to say the request came over TLS.
        SESSION_COOKIE_SECURE=hub.config.https,
        PREFERRED_URL_SCHEME="https" if hub.config.https else "http",
        JSON_SORT_KEYS=False,
        # A token lasts as long as its session (the operator's, at most 12 hours), as before:
        # an hour's limit would expire a settings page left open over lunch.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.json = HubJSON(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(ui.bp)

    def register(blueprint: Blueprint) -> None:
        app.register_blueprint(blueprint)

    hub.pm.hook.register_blueprints(register=register)
    # After the plugins' blueprints: an exemption a plugin declares as it registers one counts.
    csrf.protect(app)


    @app.after_request
    def _security_headers(response: Response) -> Response:
        """On every answer Flask gives, the UI's, the API's and every plugin's pages alike."""
        for name, value in intake.security_headers(hub.config.https):
            response.headers.setdefault(name, value)
        if not (request.endpoint or "").endswith("static"):
            response.headers["Cache-Control"] = "no-store"  # customer data, tokens' state
        return response

    wsgi = app.wsgi_app
    trusted = hub.config.trusted_proxies
    if trusted > 0:
        # The address, scheme and host the visitor used, from the X-Forwarded-* headers the
        # HUB_TRUSTED_PROXIES nearest proxies added; with 0 those headers are never read.
        wsgi = ProxyFix(wsgi, x_for=trusted, x_proto=trusted, x_host=trusted)
    # Events and booking checks are answered in front of Flask, by the same front door
    # (hub.web.intake) its routes call; Flask answers all the rest.
    app.wsgi_app = intake.HotCalls(wsgi, hub)  # type: ignore[method-assign]

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
