"""CSRF, by Flask-WTF's CSRFProtect, for every state-changing route of every blueprint: the UI's
own, and every plugin's, protected by default whether or not its author remembered to.

SameSite=Lax cookies already stop most cross-site posts; the token covers the rest (older
browsers, a sibling subdomain) and costs one hidden field. The routes that carry their own
proof are exempt, each where it is declared, with :func:`exempt`: the host API (a bearer key,
no cookie), Intuit's webhooks (signed by the verifier token). The OAuth callback is a GET with
its own single-use state, which CSRF does not cover.

An exemption is a mark on the view or blueprint itself, read by :func:`protect` from what one app
registered: it goes wherever that object is registered and nowhere else, and nothing is kept in
this module, so two apps in one process (two hubs) share no exemption and none accumulates.
"""

from __future__ import annotations

from typing import TypeVar

from flask import Flask
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup, escape

FIELD = "csrf_token"
T = TypeVar("T")
_MARK = "hub_csrf_exempt"

__all__ = ["FIELD", "CSRFError", "exempt", "hidden_field", "protect", "token"]


def token() -> str:
    """This session's token (made on first use: the sign-in form needs one too)."""
    return str(generate_csrf())


def hidden_field() -> Markup:
    """The token as a hidden input, for forms a plugin writes into its ``ui_card``."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, escape(token()))


def exempt(view: T) -> T:
    """Leave a view or a whole blueprint out of the CSRF check, because it proves where a
    request came from another way (a bearer key, a signature). Say which in a comment.

    It marks the object, so it counts in every app that registers that view or blueprint before
    the app's guard is made (a plugin's ``register_blueprints``), and in no other."""
    if isinstance(view, str):
        raise TypeError(f"csrf exempt({view!r}): pass the view function or the Blueprint "
                        "itself, not its name, so the exemption goes only where it is registered")
    # A bound method keeps its attributes on its function (and reads them from there).
    setattr(getattr(view, "__func__", view), _MARK, True)
    return view


def is_exempt(view: object) -> bool:
    return getattr(view, _MARK, False) is True


def protect(app: Flask) -> CSRFProtect:
    """Check CSRF on every state-changing route of ``app``, but those of the views and
    blueprints it has registered that are marked :func:`exempt`; the guard is this app's own."""
    guard = CSRFProtect()
    for marked in [*app.blueprints.values(), *app.view_functions.values()]:
        if is_exempt(marked):
            guard.exempt(marked)
    guard.init_app(app)
    return guard
