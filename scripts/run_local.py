"""What ``make run`` runs: the hub on its embedded defaults (SQLite in ./hub.db) and, when no
Intuit credentials are set, the bundled QuickBooks emulator beside it, its demo company kept in
``.hub/emulator.json`` across restarts.

With the emulator, the hub is connected to its demo company before it starts, through the same
OAuth exchange an operator's Connect makes (the authorize URL with state and PKCE, the consent
page's Connect, the code exchanged at the token endpoint): the README's first curl then writes
a customer and an invoice there. With real Intuit credentials nothing is connected for you.

The demo's API key is made once and kept in ``.hub/api-key`` (never printed): the README's curl
reads it from there. Once the hub answers, what a newcomer needs next is printed once.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from dotenv import load_dotenv

STATE = Path(".hub")
EMULATOR_PORT = int(os.environ.get("HUB_EMULATOR_PORT", "9000"))
HUB_PORT = os.environ.get("HUB_PORT", "8000")


def _api_key() -> str:
    path = STATE / "api-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the QuickBooks emulator stopped at start (is port {EMULATOR_PORT} taken? "
                     "set HUB_EMULATOR_PORT)")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"the QuickBooks emulator did not answer at {url}")


def _connect_demo(env: dict[str, str]) -> str:
    """Connect the hub's database to the emulator's demo company, as an operator's Connect
    would; nothing if it is connected already (the emulator keeps its grants in .hub)."""
    from hub.builtin.quickbooks import connect, connection
    from hub.builtin.quickbooks.emulator.consent import approve
    from hub.config import load_config
    from hub.hub import Hub

    hub = Hub(load_config(env, dotenv=False))
    try:
        # The plugin is driven as its own Connect page drives it, through its Context.
        ctx = hub.context("quickbooks", "run", "connect")
        status = connection.status(ctx)
        if status["status"] == "connected":
            return f"QuickBooks: connected to {status['company_name']} (the emulator)"
        back = approve(connect.start_browser(ctx))
        return connect.finish_browser(ctx, state=back.get("state"), code=back.get("code"),
                                      realm_id=back.get("realmId"), error=back.get("error"))
    finally:
        hub.close()


class _Log:
    """Passes the hub's log through, and keeps the first-visit line to say it again."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.first_visit: str | None = None
        self.seen = threading.Event()
        self._thread = threading.Thread(target=self._copy, args=(stream,), daemon=True)
        self._thread.start()

    def _copy(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            sys.stderr.buffer.write(raw)
            sys.stderr.flush()
            line = raw.decode(errors="replace")
            if "First visit: " in line and self.first_visit is None:
                self.first_visit = line.split("First visit: ", 1)[1].strip()
                self.seen.set()


def _wait_for_hub(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # it answered (401: the key is asked for)
        except OSError:
            time.sleep(0.2)
    return False


def _next_steps(hub_url: str, log: _Log, emulator_base: str | None, connected: str | None,
                own_key: bool) -> str:
    lines = ["", "Ledgerline Hub is running.",
             f"  Settings UI     {log.first_visit or hub_url}"
             + ("  (the one-time link to choose the operator password)" if log.first_visit
                else "")]
    if own_key:
        lines.append("  Host API key    in .hub/api-key (the README's curl reads it)")
    if emulator_base:
        lines.append(f"  QuickBooks      {connected}")
        lines.append(f"  Its books       {emulator_base}/_emulator/books "
                     "(what the hub wrote there)")
    lines.append(f"  Activity        {hub_url}/activity (each event and what each plugin did)")
    lines.append("Try the README's curl next. Ctrl-C stops the hub.")
    return "\n".join(lines) + "\n"


def main() -> None:
    load_dotenv(Path.cwd() / ".env", override=False)
    STATE.mkdir(exist_ok=True)
    env = dict(os.environ)
    own_key = not env.get("HUB_API_KEY")
    if own_key:
        env["HUB_API_KEY"] = _api_key()
    emulator = None
    base = connected = None
    if not env.get("QBO_CLIENT_ID"):
        base = f"http://127.0.0.1:{EMULATOR_PORT}"
        emulator = subprocess.Popen([
            sys.executable, "-m", "hub.builtin.quickbooks.emulator", "--port", str(EMULATOR_PORT),
            "--state", str(STATE / "emulator.json"),
            "--webhook-url", f"http://127.0.0.1:{HUB_PORT}/quickbooks/webhooks",
        ], env=env)
        _wait_until_up(f"{base}/.well-known/openid_configuration", emulator)
        env.update({
            "QBO_CLIENT_ID": "ledgerline-emulator-client",
            "QBO_CLIENT_SECRET": "ledgerline-emulator-secret",
            "QBO_WEBHOOK_VERIFIER_TOKEN": "ledgerline-emulator-verifier",
            "QBO_API_BASE": f"{base}/v3",
            "QBO_DISCOVERY_URL": f"{base}/.well-known/openid_configuration",
            "QBO_REDIRECT_URI": f"http://127.0.0.1:{HUB_PORT}/quickbooks/callback",
            # Plain http is allowed only because this is the local emulator.
            "OAUTHLIB_INSECURE_TRANSPORT": "1",
            "AUTHLIB_INSECURE_TRANSPORT": "1",
        })
        print(f"No Intuit credentials set: using the bundled QuickBooks emulator at {base}",
              flush=True)
        try:
            connected = _connect_demo(env)
        except Exception as exc:  # the demo still runs; Connect in the UI is the way left
            connected = f"not connected ({exc}); use Connect on the Integrations page"
    hub = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--port", HUB_PORT], env=env,
                           stderr=subprocess.PIPE)
    assert hub.stderr is not None
    log = _Log(hub.stderr)
    signal.signal(signal.SIGTERM, lambda *_: hub.terminate())
    hub_url = f"http://127.0.0.1:{HUB_PORT}"
    if _wait_for_hub(f"{hub_url}/api/v1/openapi.json", hub):
        log.seen.wait(1.0)  # logged at start, while no password is set: said again below
        print(_next_steps(hub_url, log, base, connected, own_key), flush=True)
    try:
        code = hub.wait()
    except KeyboardInterrupt:
        hub.send_signal(signal.SIGINT)
        code = hub.wait()
    finally:
        if emulator:
            emulator.terminate()
            emulator.wait(10)
    sys.exit(code)


if __name__ == "__main__":
    main()
