"""Announce changes to a webhook URL, signed and retried, without blocking the API request.

Two payload shapes, as Intuit documents them:
- legacy: {"eventNotifications":[{"realmId":..., "dataChangeEvent":{"entities":[
            {"name":"Customer","id":"1","operation":"Create","lastUpdated":"..."}]}}]}
            (a Merge adds "deletedId": the Id merged away)
- cloudevents: [{"specversion":"1.0","id":uuid,"source":"intuit.<app>","type":
            "qbo.customer.created.v1","datacontenttype":"application/json","time":...,
            "intuitentityid":"1","intuitaccountid":realm,"data":{}}]
            (a Merge's data is {"deletedid": the Id merged away})
Each POST carries `intuit-signature`: base64(HMAC-SHA256(raw body, verifier token)).
A failed delivery (non-2xx, error, or no answer within 3 s) is retried on Intuit's schedule,
scaled by Config.retry_scale; threading.Timer keeps the waits off any test clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import queue
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from .clock import now, parse_timestamp
from .context import Change
from .state import Config

log = logging.getLogger(__name__)
PAST_TENSE = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Merge": "merged",
    "Void": "voided",
    "Emailed": "emailed",
}
DELIVERY_TIMEOUT = 3.0


def sign(body: bytes, verifier_token: str) -> str:
    digest = hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def legacy_payload(realm: str, changes: list[Change]) -> Any:
    entities = [
        {
            "name": c.entity,
            "id": c.ident,
            "operation": c.operation,
            "lastUpdated": iso_utc(c.last_updated),
        }
        | ({"deletedId": c.deleted_id} if c.deleted_id else {})
        for c in changes
    ]
    return {"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": entities}}]}


def cloudevents_payload(realm: str, changes: list[Change], source: str) -> Any:
    return [
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": source,
            "type": f"qbo.{c.entity.lower()}.{PAST_TENSE.get(c.operation, c.operation.lower())}.v1",
            "datacontenttype": "application/json",
            "time": iso_utc(c.last_updated),
            "intuitentityid": c.ident,
            "intuitaccountid": realm,
            # Intuit's merged event carries the merged-away Id as data.deletedid.
            "data": {"deletedid": c.deleted_id} if c.deleted_id else {},
        }
        for c in changes
    ]


def iso_utc(stamp: str) -> str:
    moment = parse_timestamp(stamp) if stamp else now()
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Delivery:
    body: bytes
    attempt: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)


class Dispatcher:
    """One background worker drains a queue of deliveries; retries come back via timers."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.attempts: list[dict[str, Any]] = []  # every attempt, for tests and the control API
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._delivered = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._run, name="qbo-emulator-webhooks", daemon=True)
        self._thread.start()

    def announce(self, realm: str, changes: list[Change]) -> None:
        if not changes or not self.config.webhook_url or self._stopped.is_set():
            return
        if self.config.webhook_format == "legacy":
            payload = legacy_payload(realm, changes)
        else:
            payload = cloudevents_payload(realm, changes, "intuit." + self.config.client_id)
        self._queue.put(Delivery(json.dumps(payload, separators=(",", ":")).encode("utf-8")))

    def _run(self) -> None:
        while True:
            delivery = self._queue.get()
            if delivery is None:
                return
            try:
                self._attempt(delivery)
            except Exception:  # the worker must survive anything a receiver does
                log.exception("webhook delivery crashed")

    def _attempt(self, delivery: Delivery) -> None:
        url = self.config.webhook_url
        if not url or self._stopped.is_set():
            return
        delivery.attempt += 1
        status: int | None = None
        error = ""
        try:
            response = requests.post(
                url,
                data=delivery.body,
                headers={
                    "Content-Type": "application/json",
                    "intuit-signature": sign(delivery.body, self.config.verifier_token),
                },
                timeout=DELIVERY_TIMEOUT,
            )
            status = response.status_code
            response.close()
        except requests.RequestException as exc:
            error = type(exc).__name__
        ok = status is not None and 200 <= status < 300
        record = {
            "attempt": delivery.attempt,
            "status": status,
            "error": error,
            "ok": ok,
            "body": delivery.body.decode("utf-8"),
            "at": datetime.now(UTC).isoformat(),
        }
        with self._delivered:
            self.attempts.append(record)
            self._delivered.notify_all()
        if not ok and delivery.attempt < self.config.max_webhook_attempts:
            self._schedule_retry(delivery)

    def _schedule_retry(self, delivery: Delivery) -> None:
        schedule = self.config.retry_schedule or [21600]
        delay = schedule[min(delivery.attempt - 1, len(schedule) - 1)] * self.config.retry_scale
        timer = threading.Timer(delay, self._requeue, args=(delivery,))
        timer.daemon = True
        with self._lock:
            if self._stopped.is_set():
                return
            self._timers.add(timer)
        timer.start()

    def _requeue(self, delivery: Delivery) -> None:
        with self._lock:
            self._timers = {
                t for t in self._timers if t.is_alive() and t is not threading.current_thread()
            }
        if not self._stopped.is_set():
            self._queue.put(delivery)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until at least `count` attempts were made (or the timeout); return them all."""
        with self._delivered:
            self._delivered.wait_for(lambda: len(self.attempts) >= count, timeout=timeout)
            return list(self.attempts)

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            timers = list(self._timers)
            self._timers.clear()
        for timer in timers:
            timer.cancel()
        self._queue.put(None)
        self._thread.join(timeout=5)
