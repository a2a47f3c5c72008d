"""The Flask app and the real, threaded HTTP server it runs on."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, jsonify
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from . import api, books, control, oauth, person_routes
from .seed import DEMO_NAME, DEMO_REALM, build_company
from .state import Config, EmulatorState
from .webhooks import Dispatcher

log = logging.getLogger(__name__)


class QuietHandler(WSGIRequestHandler):
    """Keep test output clean: no access log lines (errors still go to the logger)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def prepare_state(config: Config, state_file: str | None = None) -> EmulatorState:
    state = EmulatorState.build(config, state_file)
    if not state.store.load() and config.seed:
        state.store.add_company(DEMO_REALM, build_company(DEMO_REALM, DEMO_NAME))
        state.store.save()
    state.webhooks = Dispatcher(config)
    return state


def create_app(state: EmulatorState) -> Flask:
    app = Flask("qbo_emulator")
    app.extensions["qbo_emulator"] = state
    app.register_blueprint(oauth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(person_routes.bp)
    app.register_blueprint(books.bp)

    @app.get("/")
    def index() -> Any:
        return jsonify(
            {
                "emulator": "QuickBooks Online",
                "discovery": state.base_url + "/.well-known/openid_configuration",
                "api_base": state.base_url + "/v3",
                "books": state.base_url + "/_emulator/books",
                "companies": sorted(state.store.data["companies"]),
            }
        )

    return app


class RunningServer:
    """A bound server plus the thread serving it."""

    def __init__(self, state: EmulatorState, host: str, port: int) -> None:
        self.state = state
        self.app = create_app(state)
        self.server: BaseWSGIServer = make_server(
            host, port, self.app, threaded=True, request_handler=QuietHandler
        )
        self.host = host
        self.port = self.server.server_port
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        state.base_url = f"http://{shown}:{self.port}"
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        # A short poll interval makes stop() quick, which keeps test teardown fast.
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="qbo-emulator", daemon=True
        )
        self.thread.start()

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
        if self.state.webhooks is not None:
            self.state.webhooks.stop()
        self.state.store.save()
