"""Start an emulator in-process (a thread on a free port) and drive it from tests.

emu = start_emulator(limits=Limits(per_minute=5))
token = emu.connect()                     # the whole OAuth dance, returns the token answer
emu.fail_next(2, status=503)
emu.add_customer(DisplayName="Walk-in")   # "made in QuickBooks", announced by webhook
emu.stop()
"""

from __future__ import annotations

import copy
from dataclasses import fields
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from . import books, by_hand, control
from .seed import DEMO_REALM
from .server import RunningServer, prepare_state
from .state import Config, EmulatorState
from .store import public, table
from .throttle import Limits
from .tokens import revoke_grant

__all__ = ["Emulator", "Limits", "start_emulator", "DEMO_REALM"]


class Emulator:
    """Handle on a running emulator: its URLs, credentials, and control helpers."""

    def __init__(self, server: RunningServer) -> None:
        self._server = server
        self.state: EmulatorState = server.state

    # -- where it is -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.state.base_url

    @property
    def api_base(self) -> str:
        return self.base_url + "/v3"

    @property
    def discovery_url(self) -> str:
        return self.base_url + "/.well-known/openid_configuration"

    @property
    def client_id(self) -> str:
        return self.state.config.client_id

    @property
    def client_secret(self) -> str:
        return self.state.config.client_secret

    @property
    def verifier_token(self) -> str:
        return self.state.config.verifier_token

    @property
    def realm_id(self) -> str:
        """The seeded demo company's realm id."""
        return DEMO_REALM

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- OAuth shortcut --------------------------------------------------------------------------
    def connect(
        self,
        realm: str | None = None,
        redirect_uri: str = "http://localhost/callback",
        scope: str = "com.intuit.quickbooks.accounting",
    ) -> dict[str, Any]:
        """Authorize as a user would (consent form POST) and exchange the code; returns the
        token answer plus `realmId`."""
        with requests.Session() as http:
            answer = http.post(
                self.base_url + "/connect/oauth2",
                data={
                    "client_id": self.client_id,
                    "redirect_uri": redirect_uri,
                    "response_type": "code",
                    "scope": scope,
                    "state": "emulator",
                    "realmId": realm or self.realm_id,
                    "decision": "connect",
                },
                allow_redirects=False,
            )
            query = parse_qs(urlparse(answer.headers["Location"]).query)
            token = http.post(
                self.base_url + "/oauth2/v1/tokens/bearer",
                data={
                    "grant_type": "authorization_code",
                    "code": query["code"][0],
                    "redirect_uri": redirect_uri,
                },
                auth=(self.client_id, self.client_secret),
            )
            token.raise_for_status()
            return dict(token.json()) | {"realmId": query["realmId"][0]}

    # -- faults and limits -------------------------------------------------------------------
    def fail_next(self, count: int = 1, status: int = 500) -> None:
        control.fail_next(self.state, count, status)

    def set_latency(self, seconds: float) -> None:
        control.set_latency(self.state, seconds)

    def delay_next(self, seconds: float, count: int = 1, only: str = "") -> None:
        """The next `count` API calls (`only`: to that endpoint, "token" for the OAuth token
        endpoint) take `seconds` longer."""
        control.delay_next(self.state, seconds, count, only)

    def cdc_keeps(self, keeps: str) -> str:
        """Which changes a CDC answer over 1,000 objects keeps: "oldest" or "newest"."""
        return control.set_cdc_keeps(self.state, keeps)

    def reads(self, used: int | None = None) -> dict[str, Any]:
        """This month's metered reads (set to `used` first, if given) and the allowance."""
        return control.reads(self.state, used)

    def drop_next(self, count: int = 1, only: str = "") -> None:
        control.drop_next(self.state, count, only)

    def replay_faults(self, on: bool = True) -> None:
        """Hostile mode, not Intuit's documented behaviour: while on, a repeated `requestid`
        is answered with fault 6000 (per item, for a batch) instead of the first answer."""
        with self.state.switches.lock:
            self.state.switches.replay_faults = on

    def forget_requestids(self) -> None:
        """Forget every remembered `requestid` answer, as Intuit may after a while: how long it
        remembers one is not documented. A repeated requestid then writes again."""
        with self.state.store.lock:
            for company in self.state.store.data["companies"].values():
                company["idempotency"] = {}

    def set_limits(
        self,
        per_minute: int | None = None,
        concurrent: int | None = None,
        batch_per_minute: int | None = None,
        reads_per_month: int | None | str = "",
    ) -> dict[str, int | None]:
        """Change the throttle and reset its windows (and the month's reads); pass
        `reads_per_month` to set the monthly allowance of reads (None: unmetered)."""
        return control.set_limits(
            self.state, per_minute, concurrent, batch_per_minute, reads_per_month=reads_per_month
        )

    def calls(self) -> dict[str, int]:
        """API calls received since the start (or `reset_calls`), by method and first path
        segment: {"POST batch": 3, "GET query": 70, ...}; refused ones included."""
        return control.calls(self.state)

    def reset_calls(self) -> None:
        control.reset_calls(self.state)

    def expire_tokens(self, token: str | None = None, kind: str = "access") -> int:
        return control.expire_tokens(self.state, token, kind)

    def revoke(self, token: str) -> bool:
        return revoke_grant(self.state, token)

    def wait_in_flight(
        self, count: int = 1, realm: str | None = None, timeout: float = 5.0
    ) -> bool:
        """Wait until `count` API calls for the company hold a concurrency slot."""
        return self.state.throttle.wait_active(realm or self.realm_id, count, timeout)

    # -- webhooks ----------------------------------------------------------------------------
    def configure_webhooks(self, **options: Any) -> dict[str, Any]:
        return control.configure_webhooks(self.state, **options)

    def webhook_attempts(self) -> list[dict[str, Any]]:
        return list(self.state.webhooks.attempts)

    def wait_for_webhooks(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        return self.state.webhooks.wait_for(count, timeout)  # type: ignore[no-any-return]

    # -- changes made in QuickBooks ----------------------------------------------------------
    def add_customer(self, realm: str | None = None, **customer: Any) -> dict[str, Any]:
        return by_hand.change_in_quickbooks(
            self.state, realm or self.realm_id, "add_customer", customer=customer
        )

    def record_payment(
        self, invoice_id: str, amount: float | None = None, realm: str | None = None
    ) -> dict[str, Any]:
        args: dict[str, Any] = {"invoice_id": str(invoice_id)}
        if amount is not None:
            args["amount"] = amount
        return by_hand.change_in_quickbooks(
            self.state, realm or self.realm_id, "record_payment", **args
        )

    def edit_invoice(
        self, invoice_id: str, realm: str | None = None, **changes: Any
    ) -> dict[str, Any]:
        return by_hand.change_in_quickbooks(
            self.state,
            realm or self.realm_id,
            "edit_invoice",
            invoice_id=str(invoice_id),
            changes=changes,
        )

    def hand_edit(
        self, entity: str, ident: str, realm: str | None = None, **changes: Any
    ) -> dict[str, Any]:
        """A person edits an Invoice, Customer, Payment or SalesReceipt (sparse fields, no
        SyncToken needed): SyncToken and LastUpdatedTime move, CDC and a webhook Update follow
        (a customer made inactive is announced as a Delete)."""
        return by_hand.change_in_quickbooks(
            self.state,
            realm or self.realm_id,
            "hand_edit",
            entity=entity,
            ident=str(ident),
            changes=changes,
        )

    def delete(self, entity: str, ident: str, realm: str | None = None) -> dict[str, Any]:
        """A person deletes an Invoice, Payment or SalesReceipt (reads then answer 610, CDC has
        status Deleted, webhook Delete), or "deletes" a Customer (made inactive)."""
        return by_hand.change_in_quickbooks(
            self.state, realm or self.realm_id, "delete", entity=entity, ident=str(ident)
        )

    def void(self, entity: str, ident: str, realm: str | None = None) -> dict[str, Any]:
        """A person voids an Invoice, Payment or SalesReceipt: amounts 0, PrivateNote "Voided",
        webhook Void."""
        return by_hand.change_in_quickbooks(
            self.state, realm or self.realm_id, "void", entity=entity, ident=str(ident)
        )

    def merge_customers(
        self, from_id: str, into_id: str, realm: str | None = None
    ) -> dict[str, Any]:
        """A person merges customer `from_id` into `into_id`: its transactions move, it is left
        inactive, webhook Merge of `into_id` with deletedId `from_id`. Returns the kept one."""
        return by_hand.change_in_quickbooks(
            self.state,
            realm or self.realm_id,
            "merge_customers",
            from_id=str(from_id),
            into_id=str(into_id),
        )

    def add_company(
        self,
        realm: str,
        name: str = "Emulated Company",
        country: str = "US",
        currency: str = "USD",
        demo_data: bool = False,
        multicurrency: bool = False,
    ) -> str:
        return control.add_company(
            self.state, realm, name, country, currency, demo_data, multicurrency
        )

    def reset(self) -> None:
        control.reset(self.state)

    # -- peeking -----------------------------------------------------------------------------
    def objects(self, entity: str, realm: str | None = None) -> list[dict[str, Any]]:
        """Every stored object of an entity (inactive and voided included), for assertions."""
        with self.state.store.lock:
            company = self.state.store.company(realm or self.realm_id)
            assert company is not None
            return [public(copy.deepcopy(obj)) for obj in table(company, entity).values()]

    def books(self, realm: str | None = None) -> dict[str, Any] | None:
        """What `GET /_emulator/books.json` answers: the company's books, newest first."""
        return books.books(self.state, realm)

    def get(self, entity: str, ident: str, realm: str | None = None) -> dict[str, Any] | None:
        return next((o for o in self.objects(entity, realm) if o["Id"] == str(ident)), None)


def start_emulator(
    host: str = "127.0.0.1", port: int = 0, state_file: str | None = None, **options: Any
) -> Emulator:
    """Start a server thread on `port` (0 picks a free one). `options` are Config fields, e.g.
    client_id, client_secret, limits=Limits(...), webhook_url, webhook_format, retry_scale."""
    known = {f.name for f in fields(Config)}
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"unknown emulator options: {sorted(unknown)}")
    config = Config(**options)
    server = RunningServer(prepare_state(config, state_file), host, port)
    server.start()
    return Emulator(server)
