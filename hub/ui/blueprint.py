"""The UI's blueprint and what every one of its pages shares: sign-in required, CSRF checked on
every POST, secure cookies over https. The headers that keep pages out of frames and caches are
the app's (``hub.app``), so a plugin's pages get them too.

The blueprint's guards run only for its own routes: the host API under ``/api/v1`` keeps its
bearer key and never sees a session.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup

from hub import clock
from hub.hub import Hub
from hub.plugins.context import Context
from hub.ui import auth, csrf

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ui/static")

# Reachable without signing in (the sign-in and first-visit pages themselves).
PUBLIC = {"ui.static", "ui.signin", "ui.setup"}
LIMITER = "hub.ui.limiter"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the cookie marked Secure whenever the request came
    over https (``SESSION_COOKIE_SECURE=True``, set when ``HUB_PUBLIC_URL`` is https, forces
    it, e.g. behind a TLS-terminating proxy that is not trusted to say so)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = typing.cast(Flask, state.app)
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = SessionInterface()
    app.extensions[LIMITER] = auth.Limiter()
    auth.check_configured_password(app.config["HUB"].config)


def current_hub() -> Hub:
    return current_app.config["HUB"]  # type: ignore[no-any-return]


def plugin_context(plugin: str) -> Context:
    """The ``Context`` of ``plugin`` for the request being answered: what its pages and
    webhook receivers use, as its hooks do (``ctx.settings``, ``ctx.write``...)."""
    return current_hub().context(plugin, "web", request.path)


def limiter() -> auth.Limiter:
    return current_app.extensions[LIMITER]  # type: ignore[no-any-return]


def safe_next(target: str | None, default: str = "ui.integrations") -> str:
    """A redirect target from a form, only if it stays on this site (no open redirects)."""
    if target:
        parts = urlsplit(target)
        # Browsers drop tabs and newlines from URLs, so "/\t/evil.example" would be "//evil..."
        plain = all(" " < ch != "\\" for ch in target)
        if plain and not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//"):
            return target
    return url_for(default)


@bp.before_request
def _guard() -> Any:
    if request.endpoint == "ui.static":
        return None
    return refusal(public=request.endpoint in PUBLIC)


def refusal(public: bool = False) -> Any:
    """The answer for a request before signing in; None when it may go ahead. (A POST without
    this session's CSRF token never gets here: CSRFProtect refuses it first, app-wide.)"""
    if public:
        return None
    hub = current_hub()
    if not auth.password_is_set(hub):
        return redirect(url_for("ui.setup"))
    if not auth.signed_in(hub):
        here = request.full_path if request.query_string else request.path
        return redirect(url_for("ui.signin", next=here if request.method == "GET" else None))
    return None


def operator_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """For a plugin's own routes behind its ``ui_card`` buttons (QuickBooks' Connect,
    Disconnect): the same sign-in check as the UI's pages. CSRF is checked for every blueprint
    anyway; put the token in those forms with ``hub.ui.csrf_field()``."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        refused = refusal()
        return refused if refused is not None else view(*args, **kwargs)

    return guarded


@bp.app_errorhandler(csrf.CSRFError)
def _expired(_error: Exception) -> Any:
    """A state-changing request without this session's CSRF token, on any blueprint's route."""
    return render_template(
        "ui/message.html", title="This form has expired",
        message="The page was open too long or came from somewhere else. Go back, reload the "
                "page and try again.",
    ), 400


@bp.errorhandler(404)
def _not_found(_error: Exception) -> Any:
    return render_template(
        "ui/message.html", title="Not found", nav="",
        message="There is nothing at this address. It may have been removed, or the link is "
                "mistyped.",
    ), 404


# App-wide: a plugin's own page may extend "ui/base.html", whose sign-out form needs them.
@bp.app_context_processor
def _context() -> dict[str, Any]:
    return {"csrf_token": csrf.token, "csrf_field": csrf.FIELD}


@bp.app_template_filter("ui_when")
def when(value: datetime | None) -> Markup:
    """A stored naive-UTC instant as a person reads it: how long ago (or how soon), in a
    ``<time>`` whose title is the exact time, to the minute and with its zone, shown on hover.
    Never microseconds, not even in the ``datetime`` attribute. For plugin cards too
    (``hub.ui.when``)."""
    if value is None:
        return Markup("")
    value = clock.as_utc(value)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        clock.iso(value.replace(microsecond=0)), f"{value:%Y-%m-%d %H:%M} UTC", relative(value))


def relative(value: datetime) -> str:
    """"just now", "2 minutes ago", "in 3 hours": naive UTC against the hub's clock."""
    seconds = int((clock.utcnow() - value).total_seconds())
    if seconds < 0:
        return "in under a minute" if seconds > -45 else "in " + _span(-seconds)
    return "just now" if seconds < 45 else _span(seconds) + " ago"


def _span(seconds: int) -> str:
    """Rounded as people round: 59 minutes 50 seconds is "1 hour", not "60 minutes"."""
    minutes, hours, days = round(seconds / 60), round(seconds / 3600), round(seconds / 86400)
    if minutes < 1:
        return f"{seconds} seconds"
    n, unit = (minutes, "minute") if minutes < 60 else (hours, "hour") if hours < 24 else \
        (days, "day")
    return f"{max(n, 1)} {unit}" + ("" if max(n, 1) == 1 else "s")


@bp.app_template_filter("ui_title")
def title(name: str) -> str:
    """A plugin's name as a heading: ``review_requests`` → ``Review requests``."""
    return name.replace("_", " ").capitalize()
