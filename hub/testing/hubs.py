"""The hubs a plugin's tests run on: ``plugin_hub``'s factory, the test client of their app, and
``deliver``, which posts an event and runs its deliveries to their end on a frozen clock.

Separate from the fixtures in ``hub/testing/__init__.py``, which only make these and close
them: the classes here are what a test holds and calls, and they import the hub itself only
when called, so loading the pytest plugin stays light.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.testing.environment import AUTH, base_env

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from hub.config import Config
    from hub.hub import Hub


def installed_plugin(name: str) -> Any:
    """The plugin ``name`` as the hub would find it: its ``hub.plugins`` entry point, or an
    entry of ``HUB_PLUGINS`` in the environment (a plugin tried before it is packaged)."""
    import importlib
    import os
    from importlib.metadata import entry_points

    from hub.config import plugin_modules
    from hub.plugins.registry import ENTRY_POINT_GROUP

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep.load()
    for found, module in plugin_modules(os.environ.get("HUB_PLUGINS")):
        if found == name:
            return importlib.import_module(module)
    raise LookupError(f"no plugin named {name!r} is installed: no {ENTRY_POINT_GROUP!r} entry "
                      f"point has that name (pip install -e your package) and HUB_PLUGINS "
                      f"does not name it")


class PluginHubs:
    """The ``plugin_hub`` fixture: makes hubs, remembers the last, closes them all."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.made: list[Hub] = []

    def __call__(self, *plugins: tuple[str, Any] | str, settings: dict[str, Any] | None = None,
                 env: dict[str, str] | None = None) -> Hub:
        from hub.config import load_config
        from hub.hub import Hub

        pairs = [(p, installed_plugin(p)) if isinstance(p, str) else p for p in plugins]
        folder = self.tmp_path / f"hub{len(self.made)}" if self.made else self.tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        config: Config = load_config({**base_env(folder), **(env or {})}, dotenv=False)
        hub = Hub(config, plugins=pairs, entrypoints=False)
        self.made.append(hub)
        for name, _plugin in pairs:
            hub.states.set_enabled(name, True)
        if settings:
            if not pairs:
                raise ValueError("settings are for the first plugin given; none was")
            hub.states.update_settings(pairs[0][0], settings)
        return hub

    @property
    def last(self) -> Hub:
        if not self.made:
            raise RuntimeError("no hub yet: call plugin_hub(...) first")
        return self.made[-1]

    def close(self) -> None:
        for hub in self.made:
            hub.close()


class HubClient:
    """A Flask test client of the app for the last hub ``plugin_hub`` made (or ``for_hub``),
    sending the host's API key; any ``FlaskClient`` method works on it."""

    def __init__(self, hubs: PluginHubs) -> None:
        self._hubs = hubs
        self._clients: dict[int, FlaskClient] = {}

    def for_hub(self, hub: Hub) -> FlaskClient:
        if id(hub) not in self._clients:
            from hub.web.app import create_app

            client = create_app(hub).test_client()
            client.environ_base["HTTP_AUTHORIZATION"] = AUTH["Authorization"]
            self._clients[id(hub)] = client
        return self._clients[id(hub)]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.for_hub(self._hubs.last), name)


@dataclass
class Delivered:
    """What ``deliver`` saw: the API's answer and the event with its deliveries at the end."""

    id: str
    answer_status: int
    answer: dict[str, Any]
    #: The event's status at the end (``done``, ``failed``, ``dead``...), as the API gives it.
    event_status: str
    #: Each plugin's delivery of the event at the end: status, attempts, last_error, result.
    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def status(self, plugin: str) -> str:
        """``plugin``'s delivery status: ``done``, ``dead``, ``skipped``, ``waiting``..."""
        if plugin not in self.deliveries:
            raise KeyError(f"{plugin!r} got no delivery of {self.id}; deliveries went to: "
                           f"{', '.join(self.deliveries) or 'none'}")
        return str(self.deliveries[plugin]["status"])


def run_to_end(hub: Hub, clock: Any, rounds: int = 1_000) -> int:
    """Run every delivery in ``hub`` due now, then move the frozen ``clock`` to the next
    retry and again, until none is pending (those held by ``Hold`` wait); returns how many
    attempts ran."""
    from sqlalchemy import func, select

    from hub.queue.db import reading
    from hub.queue.store import DELIVERIES
    from hub.queue.worker import run_due

    ran = 0
    for _ in range(rounds):
        ran += run_due(hub)
        with reading(hub.engine) as conn:
            due = conn.execute(select(func.min(DELIVERIES.c.next_attempt_at))
                               .where(DELIVERIES.c.status == "pending")).scalar()
        if due is None:
            return ran
        clock.move_to(due)
    raise AssertionError(f"deliveries still pending after {rounds} rounds of retries")


class Deliver:
    """The ``deliver`` fixture."""

    def __init__(self, hubs: PluginHubs, client: HubClient) -> None:
        self._hubs = hubs
        self._client = client

    def __call__(self, event: dict[str, Any], hub: Hub | None = None,
                 at: datetime | None = None) -> Delivered:
        """Post ``event`` to ``POST /api/v1/events`` of ``hub`` (the last made), expecting it
        accepted, and run its deliveries, and any they cause (messages to the host, events
        published), to their end on a clock frozen at ``at`` (now) and moved past each
        retry's wait."""
        from freezegun import freeze_time

        from hub.clock import utcnow

        hub = hub or self._hubs.last
        client = self._client.for_hub(hub)
        with freeze_time(at or utcnow().replace(tzinfo=UTC)) as clock:
            answer = client.post("/api/v1/events", json=event)
            if answer.status_code not in (200, 202):
                raise AssertionError(f"the API refused the event with {answer.status_code}: "
                                     f"{answer.get_data(as_text=True)}")
            run_to_end(hub, clock)
        view = hub.event(str(event["id"])) or {"status": "unknown", "deliveries": []}
        return Delivered(id=str(event["id"]), answer_status=answer.status_code,
                         answer=answer.get_json(), event_status=view["status"],
                         deliveries={d["plugin"]: d for d in view["deliveries"]})
