"""What ``make run`` runs: the hub on its embedded defaults (SQLite in ./hub.db) and, when no
Intuit credentials are set, the bundled QuickBooks emulator beside it, its demo company kept in
``.hub/emulator.json`` across restarts.

With the emulator, the hub is connected to its demo company before it starts, through the same
OAuth exchange an operator's Connect makes (the authorize URL with state and PKCE, the consent
page's Connect, the code exchanged at the token endpoint): the README's first curl then writes
a customer and an invoice there. With real Intuit credentials nothing is connected for you.

The demo's API key is made once and kept in ``.hub/api-key`` (never printed): the README's curl
reads it from there. Once the hub listens, what a newcomer needs next is printed once.

A port already taken stops it before anything starts, naming the variable that moves it: an
emulator already on HUB_EMULATOR_PORT (another ``make run``'s, say) must never be connected
to instead of this one, nor another hub answer on HUB_PORT beside this one. Each process is
taken to be up when it says so itself (the emulator's banner, the hub's "Ledgerline Hub on"),
never when something answers at its port, which may be someone else.
"""

from __future__ import annotations

import errno
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from dotenv import load_dotenv

STATE = Path(".hub")
HOST = "127.0.0.1"  # where both listen: hub serve's and the emulator's default --host
EMULATOR_PORT = os.environ.get("HUB_EMULATOR_PORT", "9000")
HUB_PORT = os.environ.get("HUB_PORT", "8000")
# What each process prints, itself, once it listens.
EMULATOR_UP = "QuickBooks Online emulator on "
HUB_UP = "Ledgerline Hub on "


def _api_key() -> str:
    path = STATE / "api-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def _port(variable: str, value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        sys.exit(f"Error: {variable} must be a port number from 1 to 65535, not {value!r}")
    return int(value)


def _refuse_taken(variable: str, port: int, what: str) -> None:
    """Stops, naming the variable to change, when something already listens on ``port``."""
    from hub.web.http_server import refuse_if_listened_on

    try:
        refuse_if_listened_on(HOST, port)
    except OSError as exc:
        reason = (f"something already listens there ({what})" if exc.errno == errno.EADDRINUSE
                  else exc.strerror or str(exc))
        sys.exit(f"Error: port {port} ({variable}) cannot be used: {reason}. Set {variable} "
                 f"to a free port, e.g. {variable}={port + 100 if port < 65436 else 'PORT'} "
                 "make run")


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
            return f"connected to {status['company_name']} (the emulator)"
        back = approve(connect.start_browser(ctx))
        said = connect.finish_browser(ctx, state=back.get("state"), code=back.get("code"),
                                      realm_id=back.get("realmId"), error=back.get("error"))
        # "QuickBooks connected: ...": the line it goes on is labelled QuickBooks already.
        return said.removeprefix("QuickBooks ")
    finally:
        hub.close()


class _Log:
    """Passes a process's output through to ``to``; tells when it said ``up`` (``up``), or
    ended (``settled`` either way), and keeps the hub's first-visit line to say it again."""

    def __init__(self, stream: IO[bytes], to: IO[bytes], up: str) -> None:
        self.first_visit: str | None = None
        self.seen = threading.Event()
        self.up = threading.Event()
        self.settled = threading.Event()
        self._up_text = up
        self._thread = threading.Thread(target=self._copy, args=(stream, to), daemon=True)
        self._thread.start()

    def _copy(self, stream: IO[bytes], to: IO[bytes]) -> None:
        try:
            for raw in iter(stream.readline, b""):
                to.write(raw)
                to.flush()
                line = raw.decode(errors="replace")
                if self._up_text in line:
                    self.up.set()
                    self.settled.set()
                if "First visit: " in line and self.first_visit is None:
                    self.first_visit = line.split("First visit: ", 1)[1].strip()
                    self.seen.set()
        finally:
            self.settled.set()

    def wait_up(self, timeout: float = 60) -> bool:
        """True once the process said it listens; False when it ended first, or took longer."""
        self.settled.wait(timeout)
        return self.up.is_set()

    def finish(self, timeout: float = 5) -> None:
        """Lets the last lines of an ended process through before this one ends."""
        self._thread.join(timeout)


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


def _start_emulator(env: dict[str, str], port: int, hub_port: int) -> subprocess.Popen[bytes]:
    emulator = subprocess.Popen([
        # -u: its banner, which says it listens, must come through the pipe at once.
        sys.executable, "-u", "-m", "hub.builtin.quickbooks.emulator", "--host", HOST,
        "--port", str(port), "--state", str(STATE / "emulator.json"),
        "--webhook-url", f"http://{HOST}:{hub_port}/quickbooks/webhooks",
    ], env=env, stdout=subprocess.PIPE)
    assert emulator.stdout is not None
    output = _Log(emulator.stdout, sys.stdout.buffer, EMULATOR_UP)
    if not output.wait_up():
        if emulator.poll() is None:
            emulator.terminate()
            emulator.wait(10)
            sys.exit(f"Error: the QuickBooks emulator did not start listening on {HOST}:{port}")
        output.finish()
        sys.exit(f"Error: the QuickBooks emulator stopped at start (exit code "
                 f"{emulator.returncode}; what it said is above)")
    return emulator


def main() -> None:
    load_dotenv(Path.cwd() / ".env", override=False)
    hub_port = _port("HUB_PORT", HUB_PORT)
    env = dict(os.environ)
    use_emulator = not env.get("QBO_CLIENT_ID")
    _refuse_taken("HUB_PORT", hub_port, "another hub, or another program")
    if use_emulator:
        emulator_port = _port("HUB_EMULATOR_PORT", EMULATOR_PORT)
        if emulator_port == hub_port:
            sys.exit(f"Error: HUB_PORT and HUB_EMULATOR_PORT are both {hub_port}: set "
                     "HUB_EMULATOR_PORT to another free port")
        _refuse_taken("HUB_EMULATOR_PORT", emulator_port,
                      "another QuickBooks emulator, which this hub must not use, or another "
                      "program")
    STATE.mkdir(exist_ok=True)
    own_key = not env.get("HUB_API_KEY")
    if own_key:
        env["HUB_API_KEY"] = _api_key()
    emulator = None
    base = connected = None
    if use_emulator:
        base = f"http://{HOST}:{emulator_port}"
        emulator = _start_emulator(env, emulator_port, hub_port)
        env.update({
            "QBO_CLIENT_ID": "ledgerline-emulator-client",
            "QBO_CLIENT_SECRET": "ledgerline-emulator-secret",
            "QBO_WEBHOOK_VERIFIER_TOKEN": "ledgerline-emulator-verifier",
            "QBO_API_BASE": f"{base}/v3",
            "QBO_DISCOVERY_URL": f"{base}/.well-known/openid_configuration",
            "QBO_REDIRECT_URI": f"http://{HOST}:{hub_port}/quickbooks/callback",
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
    hub = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--host", HOST,
                            "--port", str(hub_port)], env=env, stderr=subprocess.PIPE)
    assert hub.stderr is not None
    log = _Log(hub.stderr, sys.stderr.buffer, HUB_UP)
    signal.signal(signal.SIGTERM, lambda *_: hub.terminate())
    hub_url = f"http://{HOST}:{hub_port}"
    try:
        if log.wait_up():
            log.seen.wait(1.0)  # logged at start, while no password is set: said again below
            print(_next_steps(hub_url, log, base, connected, own_key), flush=True)
        elif hub.poll() is None:  # neither listening nor stopped: not one to leave running
            print(f"Error: the hub did not start listening on {HOST}:{hub_port}",
                  file=sys.stderr, flush=True)
            hub.terminate()
        code = hub.wait()
    except KeyboardInterrupt:
        hub.send_signal(signal.SIGINT)
        code = hub.wait()
    finally:
        log.finish()  # a hub that stopped at start said why: that line must come through
        if emulator:
            emulator.terminate()
            emulator.wait(10)
    sys.exit(code or (1 if not log.up.is_set() else 0))


if __name__ == "__main__":
    main()
