"""What an import from QuickBooks would do, shown before it is done (``hub quickbooks import
--preview``): the customers that would reach the host as new contacts, those that match a
contact the host already has by email (linked to it, not imported), emails two QuickBooks
customers share (which one is linked, and why), and the invoices an invoice import would bring,
with their total. It only reads: nothing is linked, imported or told to the host.

Its answers are the import's own rules (``hub.builtin.quickbooks.sweep``): a customer the hub
wrote (linked, or carrying its marker) is never imported back; between customers sharing an
email the active one, then the oldest, is the one linked, as ``customers.find_by_email`` picks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from hub import Context
from hub.builtin.quickbooks import connection, currencies, customers, links, paging
from hub.builtin.quickbooks.api import calling
from hub.builtin.quickbooks.customers import (
    contact_id,
    currency_of,
    normalize_email,
    preferred,
    why_preferred,
)
from hub.events import Contact, Invoice, Payment


@dataclass
class Customer:
    qbo_id: str
    name: str
    email: str | None
    contact: str | None = None
    """The host contact it would be linked to, when one has its email."""


@dataclass
class SharedEmail:
    email: str
    customers: list[str]
    linked: str
    why: str


@dataclass
class ImportedInvoice:
    qbo_id: str
    number: str | None
    customer: str
    total: str
    balance: str


@dataclass
class Preview:
    customers_seen: int = 0
    already_linked: int = 0
    to_import: list[Customer] = field(default_factory=list)
    matching: list[Customer] = field(default_factory=list)
    shared_emails: list[SharedEmail] = field(default_factory=list)
    invoices_seen: int = 0
    invoices: list[ImportedInvoice] = field(default_factory=list)
    invoices_total: str = "0.00"
    invoices_read: bool = False
    """Whether QuickBooks' invoices were read (``import_invoices`` on, or ``--invoices``)."""
    import_contacts: bool = True
    """The plugin's setting: off, the import links customers but tells the host nothing."""
    import_invoices: bool = False
    """The plugin's setting: off, the import brings no invoice, whatever QuickBooks holds; the
    invoices listed are then those it *would* bring once the setting is on."""
    first_import_done: bool = False
    """The first import has run: an import now is a sweep of what changed in QuickBooks since,
    so the invoices listed (historical, unchanged) are not brought, whatever the setting."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def host_contacts_by_email(ctx: Context) -> dict[str, str]:
    """The host's contacts by email (lower case), from what it said: its contact events and the
    contacts on its invoices, payments and bookings. The first to name an email keeps it."""
    subjects = [s for kind in ("contact", "invoice", "payment", "booking")
                for s in ctx.host_subjects(kind)]
    found: dict[str, str] = {}
    for stated in ctx.last_stated(subjects).values():
        value = stated.value
        contact = value if isinstance(value, Contact) else getattr(value, "contact", None)
        if not isinstance(contact, Contact):
            continue
        emails = [contact.email]
        if isinstance(value, Invoice | Payment):
            emails.append(getattr(value, "billing_email", None))
        for email in filter(None, map(normalize_email, emails)):
            found.setdefault(email, contact.external_id)
    return found


def host_contact_key(ctx: Context, customer: dict[str, Any], hosts: dict[str, str],
                  seen: list[dict[str, Any]], home: str) -> str | None:
    """The link key of the host contact with this customer's email and no customer yet in the
    customer's currency, when this customer is the one the hub would link for that email and
    currency (of several sharing it, ``preferred``, as ``customers.find_by_email`` picks)."""
    email = customers.normalize_email((customer.get("PrimaryEmailAddr") or {}).get("Address"))
    contact = hosts.get(email) if email else None
    if contact is None:
        return None
    currency = customers.currency_of(customer, home)
    key = customers.link_key(contact, currency, home)
    if links.get(ctx, "customer", key) is not None:
        return None
    same = [c for c in seen if customers.currency_of(c, home) == currency
            and customers.normalize_email((c.get("PrimaryEmailAddr") or {}).get("Address"))
            == email]
    chosen = customers.preferred(same)
    return key if chosen is not None and str(chosen["Id"]) == str(customer["Id"]) else None


def _first_import_done(ctx: Context) -> bool:
    # As the sweep decides between a first import (every record) and a change sweep.
    current = connection.row(ctx)
    return bool(current and current["cdc_cursor"] is not None)


def preview(ctx: Context, *, invoices: bool) -> Preview:
    """Reads every customer (and, with ``invoices``, every invoice) once, in pages. The
    plugin's ``import_contacts`` and ``import_invoices`` settings go with the answer: the import
    follows them, so what the preview says would happen does."""
    settings = ctx.settings
    with calling(ctx) as api:
        home = currencies.home(api.company)
        everyone = paging.every(api, "Customer", "Active IN (true, false)")
        bills = paging.every(api, "Invoice") if invoices else []
    hosts = host_contacts_by_email(ctx)
    shown = Preview(customers_seen=len(everyone), invoices_seen=len(bills),
                    invoices_read=invoices,
                    import_contacts=bool(getattr(settings, "import_contacts", True)),
                    import_invoices=bool(getattr(settings, "import_invoices", False)),
                    first_import_done=_first_import_done(ctx))
    sharing: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in everyone:
        email = normalize_email((c.get("PrimaryEmailAddr") or {}).get("Address"))
        if email:
            sharing.setdefault((email, currency_of(c, home)), []).append(c)
    for (email, _currency), same in sharing.items():
        chosen = preferred(same)
        if chosen is not None and len(same) > 1:
            shown.shared_emails.append(SharedEmail(
                email, sorted((str(c["Id"]) for c in same), key=int), str(chosen["Id"]),
                why_preferred(chosen, same)))
    for c in everyone:
        qbo_id = str(c["Id"])
        if links.by_qbo_id(ctx, "customer", qbo_id) or links.marked(c.get("Notes")):
            shown.already_linked += 1
            continue
        email = normalize_email((c.get("PrimaryEmailAddr") or {}).get("Address"))
        one = Customer(qbo_id, str(c.get("DisplayName") or ""), email)
        key = host_contact_key(ctx, c, hosts, everyone, home)
        if key is not None:
            one.contact = contact_id(key)
            shown.matching.append(one)
        else:
            shown.to_import.append(one)
    total = Decimal(0)
    for i in bills:
        qbo_id = str(i["Id"])
        if links.by_qbo_id(ctx, "invoice", qbo_id) or links.marked(i.get("PrivateNote")):
            continue
        amount = Decimal(str(i.get("TotalAmt", "0")))
        if amount == 0:
            continue  # voided: nothing for the host to hold
        total += amount
        shown.invoices.append(ImportedInvoice(
            qbo_id, i.get("DocNumber"), str((i.get("CustomerRef") or {}).get("name")
                                            or (i.get("CustomerRef") or {}).get("value")),
            f"{amount:.2f}", f"{Decimal(str(i.get('Balance', '0'))):.2f}"))
    shown.invoices_total = f"{total:.2f}"
    return shown


def lines(shown: Preview) -> list[str]:
    """The preview as the command prints it."""
    out = [f"{shown.customers_seen} customers in QuickBooks; {shown.already_linked} already "
           "linked to the hub"]
    if shown.import_contacts:
        out.append(f"{len(shown.to_import)} would reach the host as new contacts"
                   + (":" if shown.to_import else ""))
    else:
        out.append(f"import_contacts is off: none reaches the host as a contact; "
                   f"{len(shown.to_import)} would be linked only (`hub plugins set quickbooks "
                   "import_contacts=true` to import them)" + (":" if shown.to_import else ""))
    out += [f"  {c.qbo_id:>6}  {c.name}" + (f" <{c.email}>" if c.email else "")
            for c in shown.to_import]
    out.append(f"{len(shown.matching)} match a host contact by email and would be linked to "
               "it, not imported" + (":" if shown.matching else ""))
    out += [f"  {c.qbo_id:>6}  {c.name} <{c.email}> -> {c.contact}" for c in shown.matching]
    if shown.shared_emails:
        out.append(f"{len(shown.shared_emails)} emails are shared by more than one QuickBooks "
                   "customer:")
        out += [f"  {s.email}: customers {', '.join(s.customers)}; {s.linked} is the one "
                f"linked ({s.why})" for s in shown.shared_emails]
    if not shown.invoices_read:
        return out
    if shown.first_import_done:
        if not shown.import_invoices:
            out.append("import_invoices is off: historical invoices are not imported; with it "
                       "on (`hub plugins set quickbooks import_invoices=true`), those changed "
                       "in QuickBooks from then on are")
        out.append("The first import has run: an import now brings only what changed in "
                   f"QuickBooks since, so none of these {len(shown.invoices)} invoices "
                   f"({shown.invoices_total} in all) is imported"
                   + (":" if shown.invoices else ""))
    elif shown.import_invoices:
        out.append(f"{len(shown.invoices)} invoices would be imported, {shown.invoices_total} "
                   "in all" + (":" if shown.invoices else ""))
    else:
        out.append("import_invoices is off: historical invoices are not imported, none of "
                   "those below (`hub plugins set quickbooks import_invoices=true` before the "
                   "first import to import them)")
        out.append(f"With it on, {len(shown.invoices)} invoices would be imported, "
                   f"{shown.invoices_total} in all" + (":" if shown.invoices else ""))
    out += [f"  {i.qbo_id:>6}  #{i.number or '-'}  {i.customer}  {i.total} "
            f"({i.balance} owed)" for i in shown.invoices]
    return out
