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
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hub.context import Context
from hub.errors import Skip
from hub.events import Contact
from plugins.quickbooks import faults, links
from plugins.quickbooks.api import Api, quote

KIND = "customer"


def normalize_email(email: str | None) -> str | None:
    return email.strip().lower() if email and email.strip() else None


def display_name(name: str) -> str:
    # QuickBooks refuses colons (its sub-customer separator), tabs and newlines in names.
    cleaned = " ".join(name.replace(":", "-").split())
    return cleaned[:100] or "Unnamed customer"


def body(contact: Contact, email: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"DisplayName": display_name(contact.name)}
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


def find_by_email(api: Api, email: str) -> dict[str, Any] | None:
    found = api.query("Customer", f"PrimaryEmailAddr = {quote(email)} "
                      "AND Active IN (true, false)")
    same = [c for c in found
            if (c.get("PrimaryEmailAddr") or {}).get("Address", "").strip().casefold()
            == email.casefold()]
    # Prefer an active customer, then the oldest.
    same.sort(key=lambda c: (not c.get("Active", True), int(c["Id"])))
    return same[0] if same else None


def sync(ctx: Context, api: Api, contact: Contact, fallback_email: str | None = None) -> str:
    """The QuickBooks customer Id for this contact, created or brought up to date."""
    if contact.external_id.startswith("qbo:"):
        link = links.get(ctx.hub, KIND, contact.external_id)
        if link:
            return str(link["qbo_id"])
    given = (contact.email or fallback_email or "").strip() or None
    email = normalize_email(given)
    fields = body(contact, given)  # written as the host has it; matched case-insensitively
    digest = _digest(fields)
    link = links.get(ctx.hub, KIND, contact.external_id)
    if link and link["origin"] == "qbo":
        raise Skip("this contact came from QuickBooks; changes made in the host are not "
                   "pushed back")
    if link and link["digest"] == digest:
        return str(link["qbo_id"])
    target: dict[str, Any] | None = None
    if link:
        target = {"Id": link["qbo_id"], "SyncToken": link["sync_token"]}
    elif email:
        target = find_by_email(api, email)
    if target is not None:
        saved = _update(ctx, api, target, fields)
        ctx.note(f"Customer {saved['Id']} updated")
    else:
        saved = _create(ctx, api, fields, email, contact.external_id)
        ctx.note(f"Customer {saved['Id']} created")
    links.put(ctx.hub, KIND, contact.external_id, str(saved["Id"]),
              sync_token=str(saved.get("SyncToken")), digest=digest)
    return str(saved["Id"])


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
            if exc.code == "5010" and attempt < 2:  # changed in QuickBooks meanwhile: re-read
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
            external_id: str) -> dict[str, Any]:
    base = fields["DisplayName"]
    names = [base, f"{base} ({email or external_id})"[:100]]
    names += [f"{base} ({n})" for n in range(2, 6)]
    for name in names:
        try:
            return api.create("Customer", {**fields, "DisplayName": name,
                                           "Notes": links.marker(external_id)},
                              api.request_id("customer-create", external_id, name))
        except faults.Fault as exc:
            if exc.code != "6240":
                raise
            taken = api.query("Customer", f"DisplayName = {quote(name)} "
                              "AND Active IN (true, false)")
            if email and taken and normalize_email(
                    (taken[0].get("PrimaryEmailAddr") or {}).get("Address")) == email:
                return taken[0]  # made a moment ago by another delivery for this email
    raise faults.Fault(f"every name tried for {base!r} is taken in QuickBooks; rename the "
                       "contact in the host and retry", code="6240")
