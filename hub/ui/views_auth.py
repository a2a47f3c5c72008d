"""Sign in, the first visit's password, sign out."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from hub.ui import auth
from hub.ui.blueprint import bp, current_hub, limiter, safe_next


def _address() -> str:
    # The visitor's own address: behind HUB_TRUSTED_PROXIES proxies, ProxyFix (hub.app) has
    # put the address they were reached from here.
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
    wait = limiter().attempt(address)  # counted now, before the (slow) hash is checked
    if wait is not None:
        error = (f"Too many wrong passwords from this computer. For your safety, signing in is "
                 f"paused: try again in {auth.minutes_text(wait)}.")
        return render_template("ui/signin.html", next=next_url, error=error), 429
    if not auth.check_password(hub, request.form.get("password", "")):
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


def _no_code() -> Any:
    return render_template(
        "ui/message.html", title="This page needs the setup code",
        message="To choose the operator password, open the address on the line that starts "
                "with \u201cFirst visit:\u201d in the hub's log, where hub serve or hub web "
                "runs. Restarting the hub logs a new one.",
    ), 403


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> Any:
    """The first visit: choose the operator password (only while none is set, and only with
    the setup code the web process logged)."""
    hub = current_hub()
    if auth.password_is_set(hub):
        return redirect(url_for("ui.signin"))
    code = request.values.get("code") or ""
    if not auth.setup_code_is_good(hub, code):
        return _no_code()
    if request.method == "GET":
        return render_template("ui/setup.html", code=code, error=None,
                               min_length=auth.MIN_PASSWORD_LENGTH)
    password = request.form.get("password", "")
    problem = auth.password_problem(password, request.form.get("confirm", ""))
    if problem:
        return render_template("ui/setup.html", code=code, error=problem,
                               min_length=auth.MIN_PASSWORD_LENGTH), 422
    if not auth.set_first_password(hub, password, code=code):
        if not auth.password_is_set(hub):
            return _no_code()
        flash("A password was set from another browser a moment ago. Sign in with it.")
        return redirect(url_for("ui.signin"))
    auth.sign_in(hub)
    flash("Password saved. You are signed in.")
    return redirect(url_for("ui.integrations"))


@bp.post("/signout")
def signout() -> Any:
    auth.sign_out(current_hub())
    flash("You are signed out.")
    return redirect(url_for("ui.signin"))
