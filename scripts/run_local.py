"""What ``make run`` runs: the hub on its embedded defaults (SQLite in ./hub.db) and, when no
Intuit credentials are set, the bundled QuickBooks emulator beside it, its demo company kept in
``.hub/emulator.json`` across restarts.

The demo's API key is made once and kept in ``.hub/api-key`` (never printed): the README's curl
reads it from there.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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


def main() -> None:
    load_dotenv(Path.cwd() / ".env", override=False)
    STATE.mkdir(exist_ok=True)
    env = dict(os.environ)
    if not env.get("HUB_API_KEY"):
        env["HUB_API_KEY"] = _api_key()
        print("The host API key for this demo is in .hub/api-key", flush=True)
    emulator = None
    if not env.get("QBO_CLIENT_ID"):
        base = f"http://127.0.0.1:{EMULATOR_PORT}"
        emulator = subprocess.Popen([
            sys.executable, "-m", "plugins.quickbooks.emulator", "--port", str(EMULATOR_PORT),
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
    hub = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--port", HUB_PORT], env=env)
    signal.signal(signal.SIGTERM, lambda *_: hub.terminate())
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
