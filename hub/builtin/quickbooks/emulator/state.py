"""The emulator's configuration and the live switches (faults, latency, limits) it runs with."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .store import Store
from .throttle import Limits, Throttle

DAY = 86400


@dataclass
class Config:
    client_id: str = "ledgerline-emulator-client"
    client_secret: str = "ledgerline-emulator-secret"
    # None accepts any redirect URI (handy for demos); a list restricts it as Intuit does.
    redirect_uris: list[str] | None = None
    verifier_token: str = "ledgerline-emulator-verifier"
    webhook_url: str | None = None
    webhook_format: str = "cloudevents"  # or "legacy" (eventNotifications)
    # Intuit retries after 10 s, 20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h, then every 6 h.
    retry_schedule: list[float] = field(
        default_factory=lambda: [10, 20, 30, 300, 1200, 7200, 14400, 21600]
    )
    retry_scale: float = 1.0  # e.g. 0.001 compresses the schedule for tests
    max_webhook_attempts: int = 12
    notify_api_changes: bool = True  # Intuit announces changes made through the API too
    access_ttl: int = 3600
    refresh_ttl: int = 100 * DAY
    refresh_grace: int = DAY
    refresh_hard_ttl: int = 5 * 365 * DAY
    code_ttl: int = 300
    limits: Limits = field(default_factory=Limits)
    # Which changes a CDC answer over 1,000 objects keeps: "oldest" or "newest" (Intuit: unsaid).
    cdc_keeps: str = "oldest"
    seed: bool = True


@dataclass
class Switches:
    """Faults on command. Guarded by `lock`; each counter is consumed one call at a time."""

    fail_status: int = 500
    fail_count: int = 0
    latency: float = 0.0
    drop_count: int = 0
    drop_only: str = ""  # drop only calls to this endpoint ("batch"); empty: any call
    delay_seconds: float = 0.0  # the next `delay_count` calls (to `delay_only`) take this long
    delay_count: int = 0
    delay_only: str = ""
    # Hostile, not Intuit's documented behaviour: a repeated requestid is answered with fault
    # 6000 (per item, for a batch) instead of the first answer, as one 2016 report describes.
    replay_faults: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_failure(self) -> int | None:
        with self.lock:
            if self.fail_count > 0:
                self.fail_count -= 1
                return self.fail_status
            return None

    def take_delay(self, endpoint: str = "") -> float:
        with self.lock:
            if self.delay_count > 0 and self.delay_only in ("", endpoint):
                self.delay_count -= 1
                return self.delay_seconds
            return 0.0

    def take_drop(self, endpoint: str = "") -> bool:
        with self.lock:
            if self.drop_count > 0 and self.drop_only in ("", endpoint):
                self.drop_count -= 1
                return True
            return False


@dataclass
class EmulatorState:
    config: Config
    store: Store
    throttle: Throttle
    switches: Switches = field(default_factory=Switches)
    # API calls received, by method and first path segment ("POST batch"), for tests to count.
    calls: Counter[str] = field(default_factory=Counter)
    webhooks: Any = None  # webhooks.Dispatcher, set by the server
    base_url: str = ""  # filled in once the socket is bound

    @classmethod
    def build(cls, config: Config, state_file: str | None = None) -> EmulatorState:
        return cls(config=config, store=Store(state_file), throttle=Throttle(config.limits))
