"""Host contacts as QuickBooks customers: found by email, updated when found, created when not,
never duplicated.

- The link (host external_id → customer Id) makes the next event cost no lookup, and an
  unchanged contact no call at all.
- Email matching is trimmed and case-insensitive and includes inactive customers (a found
  inactive customer is made active again rather than duplicated).
- ``DisplayName`` is unique across customers, vendors and employees (fault 6240). If the name
  is taken by a customer with the same email, that is ours (another delivery made it a moment
  ago); otherwise the new customer gets a disambiguated name.
- Every write carries a ``requestid`` from the delivery's key and what it writes (the name, the
  SyncToken), so a retry after a lost answer returns the first result, and a retry after a
  fault is a new request rather than a replay of the fault.
- Multicurrency: a QuickBooks customer's currency is set when it is created and never changes,
  and every transaction with it is in that currency. As Intuit advises, a contact billed in
  another currency gets a customer of its own for it, "Dana Lee (EUR)", made with that
  ``CurrencyRef``; it is found by email among the customers in that currency, and linked per
  (contact, currency), so its next invoice costs no lookup either. The home currency keeps the
  contact's plain link: nothing changes, and nothing is spent, for it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hub import Context
from hub.builtin.quickbooks import currencies, faults, links
from hub.builtin.quickbooks.api import Api, quote
from hub.errors import Skip
from hub.events import Contact

KIND = "customer"
# Between a contact's external_id and a currency in the link of its customer in that currency:
# never in a host id (printable ASCII), and not a space (the marker in Notes ends at one).
CURRENCY_MARK = "\u00a4"


def normalize_email(email: str | None) -> str | None:
    return email.strip().lower() if email and email.strip() else None


def display_name(name: str, currency: str | None = None) -> str:
    # QuickBooks refuses colons (its sub-customer separator), tabs and newlines in names.
    cleaned = " ".join(name.replace(":", "-").split()) or "Unnamed customer"
    if currency:  # the contact's customer in a foreign currency: "Dana Lee (EUR)"
        return f"{cleaned[:94].rstrip()} ({currency})"
    return cleaned[:100]


def link_key(external_id: str, currency: str, home: str) -> str:
    """What the contact's customer in ``currency`` is linked under."""
    return external_id if currency == home else f"{external_id}{CURRENCY_MARK}{currency}"


def contact_id(key: str) -> str:
    """The contact a customer link stands for (its currency, if any, taken off)."""
    return key.split(CURRENCY_MARK, 1)[0]


def currency_of(customer: dict[str, Any], home: str) -> str:
    return str((customer.get("CurrencyRef") or {}).get("value") or home)


def body(contact: Contact, email: str | None, currency: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"DisplayName": display_name(contact.name, currency)}
    if email:
        fields["PrimaryEmailAddr"] = {"Address": email}
    if contact.phone:
        fields["PrimaryPhone"] = {"FreeFormNumber": contact.phone}
    if contact.company:
        fields["CompanyName"] = contact.company[:100]
    if contact.address:
        a = contact.address
        address = {"Line1": a.line1, "Line2": a.line2, "City": a.city,
                   "CountrySubDivisionCode": a.region, "PostalCode": a.postal_code,
                   "Country": a.country}
        fields["BillAddr"] = {k: v for k, v in address.items() if v}
    return fields


def _digest(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def find_by_email(api: Api, email: str, currency: str | None = None) -> dict[str, Any] | None:
    """The customer with this email (in ``currency``, the home one if None)."""
    home = currencies.home(api.company)
    found = api.query("Customer", f"PrimaryEmailAddr = {quote(email)} "
                      "AND Active IN (true, false)")
    same = [c for c in found
            if (c.get("PrimaryEmailAddr") or {}).get("Address", "").strip().casefold()
            == email.casefold() and currency_of(c, home) == (currency or home)]
    return preferred(same)


def preferred(same: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Of customers sharing an email, the one the hub links: an active one, then the oldest."""
    return min(same, key=lambda c: (not c.get("Active", True), int(c["Id"])), default=None)


def why_preferred(chosen: dict[str, Any], same: list[dict[str, Any]]) -> str:
    """Why ``preferred`` chose ``chosen`` among ``same``, in the operator's words."""
    active = [c for c in same if c.get("Active", True)]
    if not chosen.get("Active", True):
        return "the oldest; all are inactive"
    if len(active) == 1:
        return "the only active one"
    return "the oldest active one"


def sync(ctx: Context, api: Api, contact: Contact, fallback_email: str | None = None,
         currency: str | None = None) -> str:
    """The QuickBooks customer Id for this contact in ``currency`` (the home currency if None),
    created or brought up to date."""
    home = currencies.home(api.company)
    wanted = currencies.checked(currency, api.company)  # refused before any call
    foreign = wanted if wanted != home else None
    key = link_key(contact.external_id, wanted, home)
    if contact.external_id.startswith("qbo:"):
        link = links.get(ctx, KIND, key)
        if link:
            return str(link["qbo_id"])
    given = (contact.email or fallback_email or "").strip() or None
    email = normalize_email(given)
    fields = body(contact, given, foreign)  # written as the host has it; matched ignoring case
    digest = _digest(fields)
    link = links.get(ctx, KIND, key)
    if link and link["origin"] == "qbo":
        raise Skip("this contact came from QuickBooks; changes made in the host are not "
                   "pushed back")
    if link and link["digest"] == digest:
        return str(link["qbo_id"])
    if link and (owner := _owner(ctx, key, link)) is not None:
        # One customer, several host contacts (merged in QuickBooks, or sharing an email):
        # only the one it is whose writes it, or each contact's change would undo the other's.
        links.put(ctx, KIND, key, str(link["qbo_id"]), sync_token=link["sync_token"],
                  digest=digest)
        why = (f"QuickBooks merged customer {link['merged_from']} into it"
               if link["merged_from"] else "it was host contact "
               f"{contact_id(owner['external_id'])}'s first, by the same email")
        ctx.note(f"Customer {link['qbo_id']} left as it is: {why}, and host contact "
                 f"{contact_id(owner['external_id'])} writes it; merge the contacts in the "
                 "host to keep one")
        return str(link["qbo_id"])
    target: dict[str, Any] | None = None
    if link:
        target = {"Id": link["qbo_id"], "SyncToken": links.token(link["sync_token"])}
        if target["SyncToken"] is None:  # linked by a sweep or a marker: its token is unknown
            target = api.read("Customer", str(target["Id"]))
    elif email:
        target = find_by_email(api, email, wanted)
        if target is not None and (first := _hosts(ctx, str(target["Id"]), key)):
            # Another host contact has this customer already, by the same email: this one
            # shares it (never a duplicate), and leaves its details to the first.
            links.put(ctx, KIND, key, str(target["Id"]),
                      sync_token=str(target.get("SyncToken")), digest=digest)
            ctx.note(f"Customer {target['Id']} linked, left as it is: host contact "
                     f"{contact_id(first[0]['external_id'])} has it already, by the same "
                     "email, and writes it; merge the contacts in the host to keep one")
            return str(target["Id"])
    if target is not None:
        saved = _update(ctx, api, target, fields)
        ctx.note(f"Customer {saved['Id']} updated")
    else:
        saved = _create(ctx, api, fields, email, key, foreign)
        ctx.note(f"Customer {saved['Id']} created" + (f" in {foreign}" if foreign else ""))
    links.put(ctx, KIND, key, str(saved["Id"]),
              sync_token=str(saved.get("SyncToken")), digest=digest)
    return str(saved["Id"])


def _hosts(ctx: Context, qbo_id: str, key: str) -> list[dict[str, Any]]:
    """The other host contacts' links to customer ``qbo_id``, oldest first (an imported
    customer's own ``qbo:`` link is QuickBooks', not a host contact's)."""
    return [o for o in links.sharing(ctx, KIND, qbo_id, {key}) if o["origin"] != "qbo"]


def _owner(ctx: Context, key: str, link: dict[str, Any]) -> dict[str, Any] | None:
    """The link of the host contact that writes this contact's customer when that is another
    one: the first linked to it and not moved there by a merge (a merged contact writes a
    shared customer never). None when this contact writes its customer itself."""
    others = _hosts(ctx, str(link["qbo_id"]), key)
    if not others:
        return None
    first = next((o for o in others if not o["merged_from"]), None)
    if link["merged_from"]:
        return first or others[0]
    return first if first is not None and first["pk"] < link["pk"] else None


def _update(ctx: Context, api: Api, target: dict[str, Any],
            fields: dict[str, Any]) -> dict[str, Any]:
    changes = dict(fields, Active=True)
    for attempt in range(3):
        payload = {"Id": target["Id"], "SyncToken": target["SyncToken"], "sparse": True,
                   **changes}
        try:
            return api.update("Customer", payload, api.request_id(
                "customer-update", str(target["Id"]), str(target["SyncToken"]),
                _digest(changes)))
        except faults.Fault as exc:
            if links.stale_token(exc) and attempt < 2:  # changed in QuickBooks meanwhile
                target = api.read("Customer", str(target["Id"]))
                continue
            if exc.code == "6240" and "DisplayName" in changes:
                # The new name belongs to someone else: keep the customer's current name.
                changes.pop("DisplayName")
                continue
            raise
    raise faults.Fault("the customer kept changing in QuickBooks while the hub updated it",
                       code="5010")


def _create(ctx: Context, api: Api, fields: dict[str, Any], email: str | None,
            key: str, currency: str | None = None) -> dict[str, Any]:
    """A new customer, in ``currency`` if given (fixed from now on) else the home one."""
    base = fields["DisplayName"]
    home = currencies.home(api.company)
    names = [base, f"{base} ({email or contact_id(key)})"[:100]]
    names += [f"{base} ({n})" for n in range(2, 6)]
    extra: dict[str, Any] = {"Notes": links.marker(key)}
    if currency:
        extra["CurrencyRef"] = {"value": currency}
    for name in names:
        try:
            return api.create("Customer", {**fields, **extra, "DisplayName": name},
                              api.request_id("customer-create", key, name))
        except faults.Fault as exc:
            if exc.code != "6240":
                raise
            taken = api.query("Customer", f"DisplayName = {quote(name)} "
                              "AND Active IN (true, false)")
            if email and taken and normalize_email(
                    (taken[0].get("PrimaryEmailAddr") or {}).get("Address")) == email \
                    and currency_of(taken[0], home) == (currency or home):
                return taken[0]  # made a moment ago by another delivery for this email
    raise faults.Fault(f"every name tried for {base!r} is taken in QuickBooks; rename the "
                       "contact in the host and retry", code="6240")
