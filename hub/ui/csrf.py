"""CSRF, by Flask-WTF's CSRFProtect, for every state-changing route of every blueprint: the UI's
own, and every plugin's, protected by default whether or not its author remembered to.

SameSite=Lax cookies already stop most cross-site posts; the token covers the rest (older
browsers, a sibling subdomain) and costs one hidden field. The routes that carry their own
proof are exempt, each where it is declared, with :func:`exempt`: the host API (a bearer key,
no cookie), Intuit's webhooks (signed by the verifier token). The OAuth callback is a GET with
its own single-use state, which CSRF does not cover.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Flask
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup, escape

FIELD = "csrf_token"
T = TypeVar("T")
# What is declared exempt, where it is declared (at import, like the blueprint itself); each app
# gets a CSRFProtect of its own that is told of them, so two apps in one process share nothing.
_EXEMPT: list[Any] = []

__all__ = ["FIELD", "CSRFError", "exempt", "hidden_field", "protect", "token"]


def token() -> str:
    """This session's token (made on first use: the sign-in form needs one too)."""
    return str(generate_csrf())


def hidden_field() -> Markup:
    """The token as a hidden input, for forms a plugin writes into its ``ui_card``."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, escape(token()))


def exempt(view: T) -> T:
    """Leave a view or a whole blueprint out of the CSRF check, because it proves where a
    request came from another way (a bearer key, a signature). Say which in a comment."""
    _EXEMPT.append(view)
    return view


def protect(app: Flask) -> CSRFProtect:
    """Check CSRF on every state-changing route of ``app``, but those declared exempt."""
    guard = CSRFProtect()
    for view in _EXEMPT:
        guard.exempt(view)
    guard.init_app(app)
    return guard
