"""Every hook a plugin can implement, declared in one place.

Event hooks (``on_*``, listed in ``EVENT_HOOKS``) are called once per stored delivery, for one
plugin at a time, by the dispatcher: each plugin gets its own delivery of an event, stored,
retried and parked on its own, and a plugin's raise never reaches another plugin. So pluggy's
options about one shared call (``tryfirst``, ``trylast``, wrappers) cannot apply to them, and a
plugin marking an event hook with one, or implementing one twice (pluggy's ``specname``), is
refused at start. Each receives the typed event value
and a :class:`hub.plugins.context.Context` carrying the attempt number, the plugin's validated
settings and the hub's services. Unless it says otherwise, a raise from an event hook is retried
with exponential backoff (see :mod:`hub.errors` for the precise outcomes), so an implementation
must be idempotent. The one rule for outside writes: derive each write's idempotency token with
``ctx.write_key(subject, content)`` from what it is about and what it writes, never from the
delivery, so that a retry, or the same event replayed under a new id, writes nothing twice.

Every other hook is called through pluggy's own callers (``pm.hook.<name>`` and
``subset_hook_caller``), so pluggy's order holds everywhere: implementations are called last
registered first, and ``tryfirst``/``trylast`` move them. Each implementation receives the
``Context`` of its own plugin. They come in three kinds:

- Decisions and answers (``check_booking``, ``check_billing``, ``customer_balance``,
  ``receivables``, ``describe_*``) are one call to the enabled plugins: ``firstresult`` hooks
  stop at the first answer that is not ``None``, wrappers wrap the call, and a raise from an
  answer is logged and counted as no opinion.
- ``register_blueprints`` and ``register_commands`` are one call to every installed plugin,
  enabled or not, at start: the routes and commands are there the moment the operator switches
  a plugin on, without a restart (they say so while it is off). Wrappers wrap that call.
- Contributions of a plugin's own (``settings_model``, ``migrations``, ``reencrypt``,
  ``scheduled``, ``ui_card``, listed in ``PER_PLUGIN_HOOKS``) are asked of each plugin on its
  own, in pluggy's order, because each answer is that plugin's alone (its settings, its tables,
  its secrets, its jobs, its card). There is no shared call for a wrapper to wrap, so a wrapper
  on one is refused at start, as is a second implementation in one plugin of any but
  ``scheduled`` (whose jobs all count): only one answer would. ``scheduled`` and ``ui_card``
  reach the enabled plugins; the others reach every installed plugin, so that its settings
  are checked before it is switched on, its tables exist before its first event, and its
  stored secrets are re-encrypted when the key rotates even while it is off.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from flask import Blueprint
    from pydantic import BaseModel

    from hub.events import (
        Balance,
        Booking,
        BookingCheck,
        Contact,
        Invoice,
        Payment,
        Verdict,
    )
    from hub.plugins.context import Context
    from hub.plugins.jobs import JobRegistrar
    from hub.reports import Receivables
    from hub.undo import Undo

hookspec = pluggy.HookspecMarker("hub")
#: The hooks called once per stored delivery, for one plugin at a time (the others go through
#: pluggy's callers, with its order, ``firstresult`` and wrappers).
EVENT_HOOKS = ("on_contact", "on_payment", "on_invoice_sent", "on_invoice_updated",
               "on_invoice_paid", "on_booking", "on_host_event", "on_undo")
#: The hooks asked of each plugin on its own, for what is that plugin's alone (its settings,
#: tables, secrets, jobs, card): pluggy's order holds, but there is no shared call to wrap.
PER_PLUGIN_HOOKS = ("settings_model", "migrations", "reencrypt", "scheduled", "ui_card")


@hookspec
def on_contact(contact: Contact, ctx: Context) -> None:
    """A ``contact`` event: the host created or changed a contact.

    Fires once per event and plugin. A raise is retried. Return value ignored.
    """


@hookspec
def on_payment(payment: Payment, ctx: Context) -> None:
    """A ``payment`` event: money taken outside an invoice (order form, subscription,
    membership, calendar booking). A raise is retried. Return value ignored."""


@hookspec
def on_invoice_sent(invoice: Invoice, ctx: Context) -> None:
    """An ``invoice.sent`` event: the host marked a new invoice as sent.

    A raise is retried. Return value ignored.
    """


@hookspec
def on_invoice_updated(invoice: Invoice, ctx: Context) -> None:
    """An ``invoice.updated`` event: the invoice's latest state; ``status == "void"`` is a void.

    A raise is retried. Return value ignored.
    """


@hookspec
def on_invoice_paid(invoice: Invoice, ctx: Context) -> None:
    """An invoice was paid, fully or in part (``invoice.amount_paid``).

    Fires for the host's ``invoice.paid`` events and for payments another plugin saw elsewhere
    and published (``ctx.source`` names where it came from; a plugin never receives its own
    publications). A raise is retried. Return value ignored.
    """


@hookspec
def on_booking(booking: Booking, ctx: Context) -> None:
    """A ``booking`` event: booked, completed or cancelled. A raise is retried."""


@hookspec
def on_host_event(message: dict[str, Any], ctx: Context) -> None:
    """A message for the host application: ``{"id", "type", "occurred_at", "data"}``.

    Plugins produce these with ``ctx.notify_host``; the hub's own ``host_webhooks`` plugin posts
    them to ``HUB_HOST_WEBHOOK_URL``. Another plugin may forward them elsewhere. A raise is retried.
    """


@hookspec
def on_undo(undo: Undo, ctx: Context) -> None:
    """The operator asked to take back what this plugin's delivery of one event wrote outside
    ("Undo in QuickBooks" on Activity, ``hub events undo ID``): ``undo`` names the event, its
    subject, the delivery's result and the event's data.

    Take back exactly what that delivery wrote (void what it created, delete what it recorded)
    and ``ctx.note`` what was done. When it cannot be taken back safely (the object was changed
    by hand since), raise ``hub.errors.Skip`` with the reason: nothing is marked. On return the
    subject is marked undone for this plugin, and its later deliveries about it are skipped
    until the operator retries one. Delivered after every earlier delivery of the subject; a
    raise is retried; must be idempotent. Only plugins implementing it offer the button.
    """


@hookspec
def check_booking(check: BookingCheck, ctx: Context) -> Verdict | None:
    """May this client book? Answer a :class:`Verdict`, or ``None`` for no opinion.

    Called synchronously for ``POST /api/v1/bookings/check`` on every enabled plugin; the booking
    is refused if any plugin refuses. Must be fast (answer from local data) and must not raise:
    a raise is logged and counted as no opinion.
    """


@hookspec
def check_billing(booking: Booking, ctx: Context) -> Verdict | None:
    """May this completed booking be billed? Answer a :class:`Verdict`, or ``None`` for no
    opinion. Asked by a billing plugin before it bills; any refusal refuses (a booking the
    booking gate refused is never billed). Must answer from local data and must not raise.
    """


@hookspec(firstresult=True)
def customer_balance(email: str, ctx: Context) -> Balance | None:
    """What the customer with this email owes, from the answering plugin's local data, or
    ``None`` when it does not know the customer. The first answer wins.

    Called synchronously (the booking gate asks on every check): must answer from local data,
    fast, and must not raise. ``stale`` says the data is older than it should be;
    ``currency`` names the currency of the amounts when the plugin knows it.
    """


@hookspec(firstresult=True)
def receivables(ctx: Context) -> Receivables | None:
    """Who owes what and each month's invoiced, collected and outstanding, for the Money page,
    from the answering plugin's local data. The first answer wins; must not raise."""


@hookspec
def scheduled(register: JobRegistrar, settings: BaseModel | None) -> None:
    """Contribute periodic jobs: ``register(name, func, minutes=.. | cron=..)``.

    Called at start and again when the plugin's settings change. ``func(ctx)`` runs on a worker,
    once per firing however many clocks run, with the firing's own idempotency key; a raise is
    retried like a delivery.
    """


@hookspec
def settings_model() -> type[BaseModel] | None:
    """The plugin's settings: a pydantic model whose fields have defaults and descriptions.

    ``SecretStr`` fields are encrypted at rest and never shown back. The operator's values are
    validated against it by ``hub plugins set`` and the settings page.
    """


@hookspec
def reencrypt(rotate: Callable[[str], str], ctx: Context) -> int:  # type: ignore[empty-body]
    """Re-encrypt every secret the plugin stores, passing each stored token through ``rotate``
    (which decrypts with any configured key and encrypts with the newest); return how many.

    Called by ``hub keys rotate``, after a new key was put first in ``HUB_ENCRYPTION_KEYS``.
    Raise ``hub.errors.RetryLater`` when the secrets are busy (QuickBooks refreshing its token):
    the command says so and fails, to be run again; it must then have rotated nothing.
    """


@hookspec
def register_blueprints(register: Callable[[Blueprint], None]) -> None:
    """Contribute Flask blueprints (webhook receivers, settings pages). Called at app creation."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``hub`` command line."""


@hookspec
def migrations() -> Path | None:
    """The directory of the plugin's Alembic revisions for its own tables, or ``None``.

    The plugin's first revision has ``down_revision = None``. The hub applies them at start and
    tracks them in a version table of the plugin's own (``alembic_version_<plugin>``), so a
    plugin's history never depends on which other plugins are installed.
    """


@hookspec
def ui_card(ctx: Context) -> str | None:
    """HTML for this plugin's own card on the settings UI's Integrations page (its status and
    actions, e.g. QuickBooks' Connect button), or ``None`` for the generic card only.

    Called on each page view; must be fast and must not raise (a raise is logged and the card
    shown without it). Return markup you have escaped yourself (``markupsafe.escape``).
    """


@hookspec
def describe_contact(external_id: str, ctx: Context) -> dict[str, Any] | None:
    """Facts this plugin holds about a host contact, merged into ``GET /api/v1/contacts/{id}``."""


@hookspec
def describe_invoice(external_id: str, ctx: Context) -> dict[str, Any] | None:
    """Facts this plugin holds about a host invoice, merged into ``GET /api/v1/invoices/{id}``."""
