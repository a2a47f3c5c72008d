"""``Context``: the one object a plugin is handed, and the only way it reaches the hub.

Every hook that takes ``ctx`` receives a ``Context`` bound to the plugin being called: its name,
its validated settings, and the hub's services (the database, encryption, other plugins'
answers, messages to the host). A plugin needs nothing else of the hub's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, func, select, update

if TYPE_CHECKING:
    from hub.config import Config
    from hub.events import Balance, Booking, HostStatement, Verdict
    from hub.hub import Hub

from hub.clock import utcnow
from hub.queue.db import reading
from hub.queue.tables import Delivery
from hub.redact import scrub, secrets_of

DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
T = TypeVar("T")


def stable_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@dataclass
class Context:
    """What a plugin is handed with each delivery, job, decision or page: who is called,
    about what, which attempt, and the hub's services.

    ``hub`` is the hub's own object, for the hub's code: a plugin uses this class's methods,
    which are the contract (``hub.HOOKS_VERSION``), and never reaches past them.
    """

    #: The hub's own object, for the hub's code; a plugin uses the methods below.
    hub: Hub
    #: The name of the plugin being called.
    plugin: str
    #: Where the event came from: ``"host"``, another plugin's name (``ctx.publish``),
    #: ``"scheduler"`` for a job, ``"hub"`` for a call outside any delivery.
    source: str
    #: The event's id as its source gave it (the host's ``id``), or what a call is about.
    event_id: str
    #: The event's type (``invoice.sent``), or what the call is (``ui``, ``command``, a job).
    event_type: str
    #: When the event happened, as its source said.
    occurred_at: datetime
    #: 1 on the first attempt of a delivery, 2 on its first retry, and so on.
    attempt: int = 1
    #: The plugin's validated settings (its ``settings_model``), or ``None`` if it has none.
    settings: BaseModel | None = None
    #: The stored delivery's number; ``None`` outside a delivery.
    delivery_pk: int | None = None
    #: What :meth:`note` recorded so far.
    notes: list[str] = field(default_factory=list)
    _progress_at: float = -1e9

    # -- keys ---------------------------------------------------------------------------------

    @property
    def idempotency_key(self) -> str:
        """This delivery's own key: the same for every attempt of it, different for every
        other delivery. For what belongs to one delivery (a record that this delivery claimed
        something); an outside write's token comes from :meth:`write_key` instead."""
        return stable_key(self.source, self.event_id, self.plugin)

    def request_id(self, *parts: str) -> str:
        """A token (40 characters) for one step of this delivery, repeated by each of its
        retries: ``parts`` name the step when a delivery has several. Like
        :attr:`idempotency_key`, it changes with the delivery; for outside writes see
        :meth:`write_key`."""
        if not parts:
            return self.idempotency_key
        return hashlib.sha256(
            "\x1f".join((self.idempotency_key, *parts)).encode()
        ).hexdigest()[:40]

    def write_key(self, subject: str, *content: Any) -> str:
        """The idempotency token of one outside write (40 characters, within QuickBooks'
        ``requestid`` and most APIs' limits), from what it is about and what it writes.

        The hub's one rule for outside writes: the token is derived from the write's
        ``subject`` (the system and the object: ``"realm 9130:invoice INV-7"``) and its
        ``content`` (the body, or the state it starts from), never from the delivery. A
        retry, a replay of the same event under a new id, an operator's retry after the
        first was parked: each repeats the same token, so the other side answers with its
        first result instead of writing twice. A different content is a different write.
        """
        parts = [subject, *(c if isinstance(c, str) else json.dumps(c, sort_keys=True,
                                                                     default=str)
                            for c in content)]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]

    # -- the hub's services ---------------------------------------------------------------

    @property
    def config(self) -> Config:
        """The hub's configuration (read only): the environment's ``HUB_*`` and ``QBO_*``."""
        return self.hub.config

    @property
    def engine(self) -> Engine:
        """The hub's database, for the plugin's own tables (see the ``migrations`` hook)."""
        return self.hub.engine

    def reading(self) -> AbstractContextManager[Connection]:
        """A connection to read with: ``with ctx.reading() as conn: ...``."""
        return reading(self.hub.engine)

    def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)`` in one write transaction and return what it returns. On SQLite
        writes are committed together with other threads' (one writer per process): keep
        ``fn`` short and free of outside calls."""
        result: T = self.hub.writer.write(fn)
        return result

    def encrypt(self, text: str) -> str:
        """``text`` encrypted with the hub's newest key, to store (tokens, passwords)."""
        return self.hub.crypto.encrypt(text)

    def decrypt(self, token: str) -> str:
        """What :meth:`encrypt` stored, with whichever configured key encrypted it."""
        return self.hub.crypto.decrypt(token)

    @property
    def memory(self) -> dict[str, Any]:
        """This plugin's in-process memory in this hub (caches, counters): never shared with
        another hub in the same process, gone when the process ends."""
        return self.hub.memory_of(self.plugin)

    @property
    def enabled(self) -> bool:
        """Whether the operator has this plugin switched on."""
        return self.hub.states.enabled(self.plugin)

    def parked(self) -> int:
        """How many of this plugin's deliveries are parked for the operator (dead)."""
        with reading(self.hub.engine) as conn:
            return int(conn.execute(
                select(func.count()).select_from(DELIVERIES)
                .where(DELIVERIES.c.plugin == self.plugin, DELIVERIES.c.status == "dead")
            ).scalar_one())

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        """A logger, ``hub.plugin.<name>``, adding the event's id and the attempt to each
        record. Secret settings are removed from what it writes, as from stored errors."""
        return _Scrubbing(logging.getLogger(f"hub.plugin.{self.plugin}"),
                          {"event": self.event_id, "attempt": self.attempt},
                          secrets_of(self.hub, self.plugin))

    # -- this delivery ----------------------------------------------------------------------

    def part(self, event_id: str, event_type: str, source: str,
             settings: BaseModel | None = None) -> Context:
        """A context for one piece of this call's work that is no stored delivery of its own
        (a month's invoices, closed client by client): the same plugin and services, its own
        ``event_id``, ``event_type`` and ``source``, a first attempt, no notes yet; what it
        notes stays with it, and its progress reaches no delivery. ``settings``: this
        context's, unless given."""
        return replace(self, source=source, event_id=event_id, event_type=event_type,
                       occurred_at=utcnow(), attempt=1, delivery_pk=None, notes=[],
                       settings=self.settings if settings is None else settings,
                       _progress_at=-1e9)

    def note(self, text: str) -> None:
        """Record what this delivery did (``Invoice 145 created``); the operator sees it."""
        self.notes.append(text)

    def superseded(self) -> bool:
        """A later event about the same subject was already delivered to this plugin: a late
        retry of this one must not undo it."""
        return self.hub.superseded(self.source, self.event_id, self.plugin)

    def tried_before(self) -> bool:
        """This delivery, or this plugin's delivery of an earlier event about the same subject,
        was attempted before: an outside write it made may exist though nothing here says so
        (the process died before recording it). Look before writing again."""
        return self.attempt > 1 or self.hub.tried_before(self.source, self.event_id,
                                                         self.plugin)

    def progress(self, done: int, total: int, what: str) -> None:
        """Show how far long work has come ("importing customers: 1200/5000") on its
        delivery while it runs; written at most once a second, and always at the end."""
        if self.delivery_pk is None:
            return
        now = time.monotonic()
        if done < total and now - self._progress_at < 1.0:
            return
        self._progress_at = now
        text = f"{what}: {done}/{total}"
        pk = self.delivery_pk
        self.hub.writer.write(lambda conn: conn.execute(
            update(DELIVERIES).where(DELIVERIES.c.pk == pk,
                                     DELIVERIES.c.status == "running").values(result=text)))

    # -- other plugins and the host -----------------------------------------------------------

    def publish(self, event_type: str, data: BaseModel | dict[str, Any], key: str) -> bool:
        """Hand an event to the *other* plugins, once per ``key``; True when new."""
        return self.hub.publish(self.plugin, event_type, data, key)

    def notify_host(self, message_type: str, data: BaseModel | dict[str, Any], key: str,
                    conn: Connection | None = None) -> bool:
        """Tell the host application something, once per ``key`` (the message's stable id).
        Given ``conn`` (inside :meth:`write`), the message is queued in that transaction."""
        return self.hub.notify_host(self.plugin, message_type, data, key, conn=conn)

    def host_subjects(self, kind: str) -> list[str]:
        """Every subject of ``kind`` (``contact``, ``invoice``, ``payment``, ``booking``) the
        host's events have named, e.g. ``["contact:c-1", "contact:c-2"]``: with
        :meth:`last_stated`, what the host holds of that kind."""
        return self.hub.host_subjects(kind)

    def last_stated(self, subjects: list[str]) -> dict[str, HostStatement]:
        """What the host last said about each subject (``invoice:INV-7``, ``contact:c-1``):
        its latest event about it, by when it happened, with the typed value. For comparing
        what the host holds with what the plugin's outside system holds now (a reconcile);
        subjects the host never named are left out."""
        return self.hub.last_stated(subjects)

    def release(self) -> int:
        """Wake this plugin's deliveries that wait after a ``Hold``: the condition cleared."""
        return self.hub.release(self.plugin)

    def run_job(self, name: str) -> bool:
        """Run this plugin's job ``name`` as soon as a worker can (unless a firing is already
        waiting to start); False when none was recorded or the job is not registered."""
        return self.hub.run_job_soon(f"{self.plugin}.{name}")

    def plugins_with(self, hook: str) -> list[str]:
        """The enabled plugins, other than this one, that implement ``hook``."""
        return self.hub.enabled_for(hook, exclude=self.plugin)

    def check_billing(self, booking: Booking) -> Verdict:
        """Every enabled plugin's ``check_billing``: may this booking be billed?"""
        return self.hub.check_billing(booking)

    def customer_balance(self, email: str) -> Balance | None:
        """The first enabled plugin's ``customer_balance`` for this email, or ``None``."""
        return self.hub.customer_balance(email)



class _Scrubbing(logging.LoggerAdapter[logging.Logger]):
    """A plugin's logger: each line with the plugin's secret settings and the hub's secrets
    taken out (``hub.redact``), as they are from stored errors."""

    def __init__(self, logger: logging.Logger, extra: dict[str, Any],
                 secrets: tuple[str, ...]) -> None:
        super().__init__(logger, extra)
        self.secrets = secrets

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        msg, kwargs = super().process(msg, kwargs)
        return scrub(str(msg), self.secrets), kwargs

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        # The arguments are formatted in first, so a secret passed as one is scrubbed too.
        if args:
            try:
                msg = str(msg) % args
            except (TypeError, ValueError):
                msg = " ".join(str(part) for part in (msg, *args))
        super().log(level, msg, **kwargs)


@dataclass(frozen=True)
class CallContext:
    """What a call through pluggy carries for ``ctx``: pluggy hands every implementation the
    same arguments, and each receives this bound to its own plugin, as a :class:`Context`
    (see ``hub.plugins.registry``)."""

    hub: Hub
    event_type: str
    event_id: str

    def bind(self, plugin: str) -> Context:
        return self.hub.context(plugin, self.event_type, self.event_id)
