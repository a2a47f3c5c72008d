"""A per-session token that every UI form carries and every POST must present.

SameSite=Lax cookies already stop most cross-site posts; the token covers the rest (older
browsers, a sibling subdomain) and costs one hidden field.
"""

from __future__ import annotations

import hmac
import secrets

from flask import request, session
from markupsafe import Markup, escape

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def token() -> str:
    """This session's token, made on first use (the sign-in form needs one too)."""
    value = session.get("csrf")
    if not value:
        value = secrets.token_urlsafe(32)
        session["csrf"] = value
    return str(value)


def hidden_field() -> Markup:
    """The token as a hidden input, for forms a plugin writes into its ``ui_card``."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, escape(token()))


def valid() -> bool:
    """Whether this request presents the session's token, in the form or a header."""
    expected = session.get("csrf")
    given = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    return bool(expected) and hmac.compare_digest(given.encode(), str(expected).encode())
