"""The hub behind a TLS-terminating proxy, over real HTTP: the test plays the proxy, sending the
X-Forwarded-* headers one would. ``hub web`` and ``hub serve`` as processes where start-up is
what is tested; the app on the hub's HTTP server in this process otherwise."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from hub.builtin import quickbooks as quickbooks_plugin
from hub.config import load_config
from hub.ui import auth
from hub.web.app import create_app
from tests.conftest import HUB, base_env, free_port, running, serving, subprocess_env
from tests.ui.conftest import PASSWORD, csrf_of

PUBLIC = "https://hub.example.com"


class Visitor:
    """A browser at ``address`` reaching the hub through the TLS proxy: the proxy appends the
    address to X-Forwarded-For and says https. Cookies are kept by hand: Secure ones would
    never be sent over the plain http between the proxy and the hub by a cookie jar."""

    def __init__(self, base: str, address: str, claims: str | None = None) -> None:
        self.base = base
        self.forwarded_for = f"{claims}, {address}" if claims else address
        self.cookie: str | None = None
        self.set_cookies: list[str] = []

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"X-Forwarded-For": self.forwarded_for, "X-Forwarded-Proto": "https",
                   "X-Forwarded-Host": urlsplit(PUBLIC).hostname or ""}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if method == "POST":
            # As a browser posts a form over https: the page it came from (the UI's
            # Referrer-Policy is same-origin), which Flask-WTF checks on a secure request.
            headers["Referer"] = PUBLIC + path
        answer = requests.request(method, self.base + path, headers=headers,
                                  allow_redirects=False, timeout=30, **kwargs)
        for value in answer.raw.headers.getlist("Set-Cookie"):
            self.set_cookies.append(value)
            self.cookie = value.split(";", 1)[0]
        return answer

    def sign_in(self, password: str) -> int:
        token = csrf_of(self.request("GET", "/signin").text)
        answer = self.request("POST", "/signin", data={"csrf_token": token, "password": password})
        return answer.status_code


def test_behind_a_tls_proxy_hub_web_is_claimed_with_its_code_and_counts_each_visitor(
        tmp_path: Path) -> None:
    port = free_port()
    env = subprocess_env(tmp_path, HUB_PUBLIC_URL=PUBLIC, HUB_TRUSTED_PROXIES="1")
    with running(HUB + ["web", "--port", str(port)], env) as (_process, log):
        line = log.wait_for("First visit: ")
        url = line.split("First visit: ", 1)[1]
        assert url.startswith(PUBLIC + "/setup?code=")
        base = f"http://127.0.0.1:{port}"
        owner = Visitor(base, "203.0.113.7")
        assert owner.request("GET", "/setup").status_code == 403  # no code, no form
        form = owner.request("GET", url.removeprefix(PUBLIC))
        assert form.status_code == 200 and "Welcome to Ledgerline Hub" in form.text
        assert form.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert "Secure" in owner.set_cookies[-1] and "HttpOnly" in owner.set_cookies[-1]
        done = owner.request("POST", "/setup", data={
            "csrf_token": csrf_of(form.text), "code": url.split("code=", 1)[1],
            "password": PASSWORD, "confirm": PASSWORD})
        assert done.status_code == 302 and done.headers["Location"] == "/integrations"
        assert owner.request("GET", "/integrations").status_code == 200
        with sqlite3.connect(tmp_path / "hub.db") as db:
            (stored,) = db.execute("SELECT value FROM hub_meta WHERE key = ?",
                                   (auth.PASSWORD_KEY,)).fetchone()
        assert stored.startswith("scrypt:131072:8:1$")  # OWASP's parameters, for real

        # Twelve guesses posted at once from one address: five are checked, the rest refused
        # before any hash is computed; then even the right password waits.
        guesser = Visitor(base, "198.51.100.23")
        token = csrf_of(guesser.request("GET", "/signin").text)
        with ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(lambda i: guesser.request(
                "POST", "/signin", data={"csrf_token": token, "password": f"guess {i}"}
            ).status_code, range(12)))
        assert sorted(codes) == [401] * 5 + [429] * 7, codes
        assert guesser.sign_in(PASSWORD) == 429
        # Claiming another address in X-Forwarded-For changes nothing: the proxy's is counted.
        assert Visitor(base, "198.51.100.23", claims="192.0.2.1").sign_in(PASSWORD) == 429
        # Everyone else still signs in: the count is per visitor, not per proxy.
        assert Visitor(base, "192.0.2.44").sign_in(PASSWORD) == 302


def test_forwarded_headers_are_read_only_from_trusted_proxies(tmp_path: Path,
                                                               make_hub: Any) -> None:
    """With HUB_TRUSTED_PROXIES=0 anyone could write X-Forwarded-For, so it is never read:
    five guesses through the proxy lock every visitor out, and an http hub sets no Secure."""
    for trusted, locked_out in (("1", False), ("0", True)):
        (tmp_path / trusted).mkdir()
        env = base_env(tmp_path / trusted) | {"HUB_TRUSTED_PROXIES": trusted}
        hub = make_hub(cfg=load_config(env, dotenv=False))
        assert auth.set_first_password(hub, PASSWORD)
        with serving(create_app(hub)) as base:
            guesser = Visitor(base, "198.51.100.23")
            for _ in range(5):
                assert guesser.sign_in("guess") == 401
            other = Visitor(base, "192.0.2.44")
            assert other.sign_in(PASSWORD) == (429 if locked_out else 302), trusted
            assert ("Secure" in other.set_cookies[-1]) is (trusted == "1")  # the proxy's https
            assert "Strict-Transport-Security" not in other.request("GET", "/signin").headers


def test_every_answer_has_the_security_headers_plugin_pages_included(
        tmp_path: Path, make_hub: Any) -> None:
    env = base_env(tmp_path) | {"HUB_PUBLIC_URL": PUBLIC}
    hub = make_hub(("quickbooks", quickbooks_plugin), cfg=load_config(env, dotenv=False))
    assert auth.set_first_password(hub, PASSWORD)
    with serving(create_app(hub)) as base:
        visitor = Visitor(base, "192.0.2.44")
        before = visitor.request("GET", "/quickbooks/callback?error=access_denied")
        assert before.status_code == 302  # to sign in first
        assert visitor.sign_in(PASSWORD) == 302
        answers = {
            "plugin page": visitor.request("GET", "/quickbooks/callback?error=access_denied"),
            "redirect": before,
            "UI page": visitor.request("GET", "/integrations"),
            "not found": visitor.request("GET", "/no/such/page"),
            "API": visitor.request("GET", "/api/v1/events/evt_1"),
        }
        assert "not approved in QuickBooks" in answers["plugin page"].text
        for what, answer in answers.items():
            headers = answer.headers
            assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), what
            assert "script-src 'none'" in headers["Content-Security-Policy"], what
            assert headers.get("X-Frame-Options") == "DENY", what
            assert headers.get("X-Content-Type-Options") == "nosniff", what
            assert headers.get("Cache-Control") == "no-store", what
            assert headers.get("Strict-Transport-Security") == \
                "max-age=31536000; includeSubDomains", what
        css = visitor.request("GET", "/ui/static/hub.css")
        assert css.status_code == 200 and css.headers.get("Cache-Control") != "no-store"


def test_a_short_hub_admin_password_stops_hub_serve_with_the_reason(tmp_path: Path) -> None:
    env = subprocess_env(tmp_path, HUB_ADMIN_PASSWORD="eleven char")
    done = subprocess.run(HUB + ["serve", "--port", str(free_port())], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "HUB_ADMIN_PASSWORD is 11 characters long: use at least 12" in done.stderr
    assert "Traceback" not in done.stderr and "workers started" not in done.stderr


def test_make_run_shows_the_first_visit_address(tmp_path: Path) -> None:
    port = free_port()
    env = subprocess_env(tmp_path, HUB_PORT=str(port), QBO_CLIENT_ID="an-intuit-app")
    del env["HUB_SECRET_KEY"]  # generated, as on a first run
    script = Path(__file__).resolve().parents[1] / "scripts" / "run_local.py"
    with running([sys.executable, str(script)], env, cwd=tmp_path) as (_process, log):
        url = log.wait_for("First visit: ").split("First visit: ", 1)[1]
        assert url.startswith(f"http://127.0.0.1:{port}/setup?code=")
        warned = log.wait_for("beside the database")
        assert f"kept in {tmp_path}/hub.db.secret" in warned and "HUB_SECRET_KEY_FILE" in warned
        page = requests.get(url, timeout=10)
        assert page.status_code == 200 and "Welcome to Ledgerline Hub" in page.text
