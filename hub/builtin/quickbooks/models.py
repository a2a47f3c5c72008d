"""The QuickBooks plugin's tables: the connection (one company per hub) and OAuth states.

Tokens are stored encrypted (``hub.crypto``); times are naive UTC like the core's.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class QboConnection(SQLModel, table=True):
    __tablename__ = "qbo_connection"

    id: int = Field(default=1, primary_key=True)  # one company per hub
    realm_id: str = Field(max_length=40)
    environment: str = Field(max_length=16)
    # connected | needs_reconnect | disconnected
    status: str = Field(max_length=20)
    access_token: str | None = Field(default=None, sa_column=Column(Text))
    refresh_token: str | None = Field(default=None, sa_column=Column(Text))
    access_expires_at: datetime | None = Field(default=None, sa_type=DateTime())
    refresh_expires_at: datetime | None = Field(default=None, sa_type=DateTime())
    refresh_hard_expires_at: datetime | None = Field(default=None, sa_type=DateTime())
    # Set while one process refreshes, so two workers never refresh at once.
    refreshing_until: datetime | None = Field(default=None, sa_type=DateTime())
    last_refresh_at: datetime | None = Field(default=None, sa_type=DateTime())
    connected_at: datetime = Field(sa_type=DateTime())
    last_sync_at: datetime | None = Field(default=None, sa_type=DateTime())
    # Where the next change sweep starts (CDC's changedSince); None until the first import.
    cdc_cursor: datetime | None = Field(default=None, sa_type=DateTime())
    # "review" while the first import waits for the operator's go (a browser connect offers
    # "Import now" or "Review first"); None once it may run.
    first_import: str | None = Field(default=None, max_length=16)
    company: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    updated_at: datetime = Field(sa_type=DateTime())


class QboOAuthState(SQLModel, table=True):
    """A browser connect in flight: the ``state`` sent to Intuit and its PKCE verifier."""

    __tablename__ = "qbo_oauth_state"

    state: str = Field(primary_key=True, max_length=100)
    code_verifier: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_type=DateTime())


class QboLink(SQLModel, table=True):
    """A host record and the QuickBooks object it became (or came from): a customer, an
    invoice, a payment or a sales receipt. Only links: what the hub remembers of items, tax
    codes and exchange rates has tables of its own below.

    ``origin`` says which side made it: "host" for what the hub pushed, "qbo" for what was
    imported from QuickBooks — and those are never pushed back. ``digest`` is a hash of what was
    last written, so an unchanged contact costs no call at all.
    """

    __tablename__ = "qbo_link"
    __table_args__ = (UniqueConstraint("kind", "external_id", name="uq_qbo_link_kind_external"),
                      Index("ix_qbo_link_qbo", "kind", "qbo_id"))

    pk: int | None = Field(default=None, primary_key=True)
    # customer | invoice | payment | sales_receipt
    kind: str = Field(max_length=20)
    external_id: str = Field(max_length=300)
    qbo_id: str = Field(max_length=40)
    sync_token: str | None = Field(default=None, max_length=20)
    digest: str | None = Field(default=None, max_length=64)
    origin: str = Field(default="host", max_length=8)
    # For invoices: the balance the host last knew, so a change made in QuickBooks is told to
    # the host once, and the hub's own payments (the echo) are not told back at all.
    balance: str | None = Field(default=None, max_length=30)
    # When the hub voided it in QuickBooks (invoices); None while it is not void.
    voided_at: datetime | None = Field(default=None, sa_type=DateTime())
    # For customers: the customer this link pointed at before QuickBooks merged it into
    # qbo_id; None for a link the hub made.
    merged_from: str | None = Field(default=None, max_length=40)
    # When a sweep saw qbo_id deleted in QuickBooks (invoices); None while it stands.
    deleted_at: datetime | None = Field(default=None, sa_type=DateTime())
    updated_at: datetime = Field(sa_type=DateTime())


class QboItem(SQLModel, table=True):
    """The QuickBooks item a host line's item name goes on (``hub.builtin.quickbooks.items``).

    A name QuickBooks lacks goes on the ``default_item``, and ``fallback_since`` says since
    when: after a day it is looked up again, so an item the operator adds later is found.
    """

    __tablename__ = "qbo_item"

    name: str = Field(primary_key=True, max_length=300)  # casefolded
    qbo_id: str = Field(max_length=40)
    # Set while the name goes on the default item (QuickBooks had no item of that name).
    fallback_since: datetime | None = Field(default=None, sa_type=DateTime())
    updated_at: datetime = Field(sa_type=DateTime())


class QboTaxCode(SQLModel, table=True):
    """The sales tax code chosen for a host tax rate (``hub.builtin.quickbooks.taxes``), kept
    for a day after ``chosen_at``. A choice made under another ``tax_codes`` setting
    (``asked``) is not used."""

    __tablename__ = "qbo_tax_code"

    percent: str = Field(primary_key=True, max_length=20)  # the host's rate: "20", "7.5", "0"
    # The code name the tax_codes setting gives the rate (casefolded), "" when it names none.
    asked: str = Field(default="", primary_key=True, max_length=100)
    code_id: str = Field(max_length=40)  # the QuickBooks TaxCode's Id
    code_name: str = Field(max_length=100)
    # Its one sales TaxRate's Id; None for a 0 % code the setting names that has none.
    rate_id: str | None = Field(default=None, max_length=40)
    chosen_at: datetime = Field(sa_type=DateTime())


class QboExchangeRate(SQLModel, table=True):
    """QuickBooks' exchange rate for a currency on a day, read once and kept
    (``hub.builtin.quickbooks.currencies``): a retry sends the very same rate."""

    __tablename__ = "qbo_exchange_rate"

    currency: str = Field(primary_key=True, max_length=3)  # ISO 4217, e.g. "EUR"
    day: date = Field(primary_key=True)
    # Home-currency units per unit of ``currency``: an exact decimal, written as a string.
    rate: str = Field(max_length=40)
    fetched_at: datetime = Field(sa_type=DateTime())


class QboCustomerMirror(SQLModel, table=True):
    """What QuickBooks says about each customer, kept current by the sweep (booking gate,
    reports, imports)."""

    __tablename__ = "qbo_customer_mirror"

    qbo_id: str = Field(primary_key=True, max_length=40)
    display_name: str = Field(max_length=500)
    email: str | None = Field(default=None, max_length=254, index=True)  # lowercased
    active: bool = True
    # QuickBooks' own Balance of the customer in the home currency: open invoices less
    # unapplied payments and credits. None when unknown (a customer in another currency).
    balance: str | None = Field(default=None, max_length=30)
    updated_at: datetime = Field(sa_type=DateTime())


class QboInvoiceMirror(SQLModel, table=True):
    """Each QuickBooks invoice's total, balance and due date: outstanding and overdue
    balances are sums over these, answered locally. ``total`` and ``balance`` are in the
    invoice's currency; ``home_total`` and ``home_balance`` in the company's home currency
    (QuickBooks' HomeTotalAmt and HomeBalance, set only in multicurrency companies)."""

    __tablename__ = "qbo_invoice_mirror"

    qbo_id: str = Field(primary_key=True, max_length=40)
    customer_id: str = Field(max_length=40, index=True)
    doc_number: str | None = Field(default=None, max_length=40)
    total: str = Field(max_length=30)
    balance: str = Field(max_length=30)
    home_total: str | None = Field(default=None, max_length=30)
    home_balance: str | None = Field(default=None, max_length=30)
    txn_date: date | None = None
    due_date: date | None = None
    # Voided in QuickBooks (by the hub or by hand): every amount zeroed.
    voided: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    updated_at: datetime = Field(sa_type=DateTime())


class QboBookingSession(SQLModel, table=True):
    """A completed booking billed monthly, waiting for its month's invoice."""

    __tablename__ = "qbo_booking_session"

    booking_id: str = Field(primary_key=True, max_length=300)
    client_key: str = Field(max_length=300, index=True)  # lowercased email, else contact id
    month: str = Field(max_length=7, index=True)  # YYYY-MM of the session's start
    booking: str = Field(sa_column=Column(Text, nullable=False))  # the Booking, as JSON
    # pending | billed | cancelled
    status: str = Field(max_length=12)
    invoice_external_id: str | None = Field(default=None, max_length=300)
    updated_at: datetime = Field(sa_type=DateTime())


class QboBatch(SQLModel, table=True):
    """A batch call as planned, recorded before it is sent.

    After a crash or a lost answer the very same request (``body``, ``request_id``) is sent
    again, and QuickBooks answers as the first time instead of writing twice; only then is new
    work planned. ``items`` says what each ``bId`` stands for and how it ended.
    """

    __tablename__ = "qbo_batch"

    request_id: str = Field(primary_key=True, max_length=36)
    purpose: str = Field(max_length=40, index=True)  # e.g. "close-month:2026-03"
    body: str = Field(sa_column=Column(Text, nullable=False))  # the request, as sent
    items: str = Field(sa_column=Column(Text, nullable=False))  # JSON, by bId
    # planned (not answered yet) | created (answer recorded, emails to send) | done
    status: str = Field(max_length=12, index=True)
    # While one process sends it: another leaves it alone until then.
    sending_until: datetime | None = Field(default=None, sa_type=DateTime())
    created_at: datetime = Field(sa_type=DateTime())
    updated_at: datetime = Field(sa_type=DateTime())


class QboCallBudget(SQLModel, table=True):
    """A company's minute of QuickBooks requests, leased a block at a time by every worker
    process (``hub.builtin.quickbooks.budget``): the blocks granted in about the last minute."""

    __tablename__ = "qbo_call_budget"

    realm_id: str = Field(primary_key=True, max_length=40)
    grants: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of blocks
    updated_at: datetime = Field(sa_type=DateTime())
