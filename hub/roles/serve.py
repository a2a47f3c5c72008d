"""Running the roles: web (granian), workers and the clock, together or apart."""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from granian import log as granian_log

from hub.config import Config, secret_key_file
from hub.errors import ConfigError
from hub.hub import Hub
from hub.plugins.jobs import Clock
from hub.queue.worker import Worker

log = logging.getLogger("hub.serve")


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs every tick at INFO; the hub logs the firings that matter itself.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Its start and stop lines: granian.log's public ``logger`` (whose name is its own).
    granian_log.logger.setLevel(logging.WARNING)


def quiet_collector() -> None:
    """Keep the start-up heap out of the garbage collector's full passes.

    Imports and plugin loading leave a few hundred thousand objects that live as long as the
    process; every full collection walked them all, a 50-100 ms pause in the middle of
    requests (the booking gate's p99). Frozen, they are never scanned again."""
    gc.collect()
    gc.freeze()


def first_visit(hub: Hub, host: str, port: int) -> None:
    """While no operator password is set, log the one address that may set it: ``/setup``
    with a new setup code (kept only hashed, good until a password is set)."""
    from hub.ui import auth

    if auth.password_is_set(hub):
        return
    code = auth.issue_setup_code(hub)
    if hub.config.public_url:
        base = hub.config.public_url
    else:
        shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
        base = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
    log.info("First visit: %s/setup?code=%s", base, code)
    key_file = generated_key_beside_database(hub.config)
    if key_file is not None:
        log.warning("The generated secret key is kept in %s, beside the database: a copy of "
                    "the data folder carries the stored tokens and the key that opens them. "
                    "Set HUB_SECRET_KEY_FILE to keep it elsewhere.", key_file)


def generated_key_beside_database(config: Config) -> Path | None:
    """The file holding a generated ``HUB_SECRET_KEY`` when it sits beside the SQLite file."""
    url = config.database_url
    if config.secret_key_path or not url.startswith("sqlite:///") or url.endswith(":memory:"):
        return None
    path = secret_key_file(url)
    try:
        generated = path.read_text().strip() == config.secret_key
    except OSError:
        return None
    return path if generated else None


def run_roles(hub: Hub, *, web: bool, worker: bool, clock: bool, host: str = "127.0.0.1",
              port: int = 8000, threads: int = 16) -> None:
    # How long a thread may hold the interpreter while others wait for it. The default 5 ms
    # starves the one SQLite writer thread behind busy request threads; 0.5 ms (what waitress
    # needed) makes the threads hand it over so often that the handing over costs. Measured
    # through hub serve, three runs each: 0.5 ms 1,087-1,151 events/s, 2 ms 1,157-1,396,
    # 5 ms 964-1,098.
    sys.setswitchinterval(0.002)
    stopping = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        raise SystemExit(0)

    server = None
    if web:
        from hub.web.app import create_app
        from hub.web.http_server import HTTPServer

        try:
            app = create_app(hub)
        except ConfigError as exc:  # e.g. an HUB_ADMIN_PASSWORD too short to be one
            hub.close()
            raise SystemExit(f"Error: {exc}") from None
        server = HTTPServer(app, host=host, port=port, threads=threads)
    signal.signal(signal.SIGTERM, _stop)
    workers = Worker(hub) if worker else None
    the_clock = Clock(hub) if clock else None
    quiet_collector()
    if server is not None:
        try:
            server.start()  # first: a port in use stops the hub before anything runs
        except OSError as exc:
            hub.close()
            raise SystemExit(f"Error: {exc}; stop what uses it or choose another --port "
                             "(with make run: set HUB_PORT to a free port)") from None
    try:
        if workers:
            workers.start()
            log.info("workers started (%d threads)", workers.threads)
        if the_clock:
            the_clock.start()
            log.info("clock started with %d jobs", len(hub.jobs()))
        if server is not None:
            log.info("Ledgerline Hub on http://%s:%s", host, server.port)
            if not hub.config.api_key:
                log.warning("HUB_API_KEY is not set: the host API refuses every call")
            first_visit(hub, host, server.port)
        while not stopping.wait(3600):
            pass
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if server is not None:
            server.stop()  # answers what is in hand before the hub closes under it
        if the_clock:
            the_clock.stop()
        if workers:
            workers.stop()
        hub.close()
