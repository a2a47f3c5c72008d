"""Sign in, the first visit's password, sign out."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from hub.ui import auth
from hub.ui.blueprint import bp, current_hub, limiter, safe_next


def _address() -> str:
    # Behind a reverse proxy every visitor shares the proxy's address; run the hub with
    # werkzeug's ProxyFix there so this is the visitor's own.
    return request.remote_addr or "unknown"


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    hub = current_hub()
    if not auth.password_is_set(hub):
        return redirect(url_for("ui.setup"))
    next_url = request.values.get("next") or ""
    if request.method == "GET":
        if auth.signed_in(hub):
            return redirect(safe_next(next_url))
        return render_template("ui/signin.html", next=next_url, error=None)
    address = _address()
    wait = limiter().wait(address)
    if wait is not None:
        error = (f"Too many wrong passwords from this computer. For your safety, signing in is "
                 f"paused: try again in {auth.minutes_text(wait)}.")
        return render_template("ui/signin.html", next=next_url, error=error), 429
    if not auth.check_password(hub, request.form.get("password", "")):
        limiter().failed(address)
        wait = limiter().wait(address)
        if wait is not None:
            error = (f"That password is not right, and that was the last try for now: try "
                     f"again in {auth.minutes_text(wait)}.")
        else:
            error = "That password is not right. Check it and try again."
        return render_template("ui/signin.html", next=next_url, error=error), 401
    limiter().succeeded(address)
    auth.sign_in(hub)
    return redirect(safe_next(next_url))


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> Any:
    """The first visit: choose the operator password (only while none is set)."""
    hub = current_hub()
    if auth.password_is_set(hub):
        return redirect(url_for("ui.signin"))
    if request.method == "GET":
        return render_template("ui/setup.html", error=None)
    password = request.form.get("password", "")
    problem = auth.password_problem(password, request.form.get("confirm", ""))
    if problem:
        return render_template("ui/setup.html", error=problem), 422
    if not auth.set_first_password(hub, password):
        flash("A password was set from another browser a moment ago. Sign in with it.")
        return redirect(url_for("ui.signin"))
    auth.sign_in(hub)
    flash("Password saved. You are signed in.")
    return redirect(url_for("ui.integrations"))


@bp.post("/signout")
def signout() -> Any:
    auth.sign_out()
    flash("You are signed out.")
    return redirect(url_for("ui.signin"))
