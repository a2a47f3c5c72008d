"""Hypothesis strategies for ``POST /api/v1/events`` bodies: valid ones of every event type, and
almost-valid ones, a valid body with exactly one thing wrong.

Written from the host contract (shared/spec/host-api.md) and the bounds the hub states
(hub/bounds.py, the OpenAPI document), not from the hub's models: a strategy that imported
the validators would agree with them by construction. ``SPEC`` is the contract's fields, each
with its kind; the valid strategies draw every field within its bounds, and ``almost_valid``
walks a valid body through ``SPEC`` to pick the one field it breaks, saying where (the dotted
path the hub must name in its 422, ``data.lines[0].unit_price``).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import strategies as st

EVENT_TYPES = ("contact", "payment", "invoice.sent", "invoice.updated", "invoice.paid", "booking")
MODEL_OF = {"contact": "Contact", "payment": "Payment", "invoice.sent": "Invoice",
            "invoice.updated": "Invoice", "invoice.paid": "Invoice", "booking": "Booking"}
HOOK_OF = {"contact": "on_contact", "payment": "on_payment", "invoice.sent": "on_invoice_sent",
           "invoice.updated": "on_invoice_updated", "invoice.paid": "on_invoice_paid",
           "booking": "on_booking"}

EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)
CENT = Decimal("0.01")

# Field kinds: a scalar kind names how to draw (and break) the value; ("model", M) an object
# of model M; ("list", M) a list of them. Each field: (kind, required, max_length or None).
Kind = Any
SPEC: dict[str, dict[str, tuple[Kind, bool, int | None]]] = {
    "Envelope": {"id": ("id", True, 255), "type": ("event_type", True, None),
                 "occurred_at": ("instant", True, None), "data": ("data", True, None)},
    "Address": {"line1": ("text", False, 500), "line2": ("text", False, 500),
                "city": ("text", False, 255), "region": ("text", False, 255),
                "postal_code": ("text", False, 30), "country": ("text", False, 255)},
    "Contact": {"external_id": ("id", True, 255), "name": ("text", True, 500),
                "email": ("email", False, 254), "phone": ("text", False, 30),
                "company": ("text", False, 500), "address": (("model", "Address"), False, None)},
    "Line": {"item": ("text", True, 100), "description": ("long_text", False, 4000),
             "quantity": ("quantity", False, None), "unit_price": ("money", True, None),
             "service_date": ("day", False, None)},
    "Discount": {"percent": ("percent", False, None), "amount": ("money", False, None)},
    "Tax": {"rate_percent": ("percent", False, None), "amount": ("money", False, None)},
    "Invoice": {"external_id": ("id", True, 255), "number": ("text", False, 21),
                "contact": (("model", "Contact"), True, None),
                "status": (("enum", ("sent", "paid", "partially_paid", "void")), False, None),
                "issue_date": ("day", True, None), "due_date": ("day", False, None),
                "currency": ("currency", False, None), "billing_email": ("email", False, 254),
                "lines": (("list", "Line"), True, None),
                "discount": (("model", "Discount"), False, None),
                "tax": (("model", "Tax"), False, None), "total": ("money", False, None),
                "amount_paid": ("money", False, None)},
    "Payment": {"external_id": ("id", True, 255), "contact": (("model", "Contact"), True, None),
                "amount": ("money", True, None), "currency": ("currency", False, None),
                "paid_at": ("instant", False, None),
                "method": (("enum", ("card", "ach", "cash", "check", "other")), False, None),
                "source": (("enum", ("order_form", "subscription", "membership", "calendar",
                                     "other")), False, None),
                "lines": (("list", "Line"), False, None)},
    "Booking": {"external_id": ("id", True, 255), "contact": (("model", "Contact"), True, None),
                "service": ("text", True, 100), "start": ("instant", True, None),
                "duration_minutes": ("minutes", True, None), "rate": ("money", True, None),
                "discount": (("model", "Discount"), False, None),
                "currency": ("currency", False, None),
                "status": (("enum", ("booked", "completed", "cancelled")), False, None),
                "billing": (("enum", ("per_session", "monthly")), False, None)},
}


# -- valid values ---------------------------------------------------------------------------

# Printable ASCII without the space: an id as the contract writes it (1-255 printable).
ids = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=255)

# Text on one line: anything but control characters (C0, DEL, C1) and lone surrogates.
_one_line_char = st.characters(exclude_categories=("Cc", "Cs"))
# A description may also hold newlines, carriage returns and tabs.
_layout_char = st.characters(exclude_categories=("Cs",), exclude_characters=(
    [chr(c) for c in range(0x20) if chr(c) not in "\n\r\t"]
    + [chr(c) for c in range(0x7F, 0xA0)]))


def text(max_length: int, chars: st.SearchStrategy[str] = _one_line_char) -> st.SearchStrategy[str]:
    """Text within ``max_length``, not blank (the hub strips surrounding whitespace, and a
    required name must keep a character)."""
    return st.one_of(
        st.text(chars, min_size=1, max_size=min(max_length, 40)),
        # Now and then the longest allowed: bounds are where off-by-ones live.
        st.text(chars, min_size=max_length, max_size=max_length),
    ).filter(lambda s: s.strip() != "")


def _money_text(cents: int, places: int) -> str:
    whole, part = divmod(cents, 100)
    return str(whole) if places == 0 else f"{whole}.{part:02d}"[: len(str(whole)) + 1 + places]


@st.composite
def money(draw: st.DrawFn, max_cents: int = 10**9, min_cents: int = 0) -> str:
    """A decimal string of at most two places: "65", "65.5", "65.00"."""
    places = draw(st.sampled_from((2, 2, 0, 1)))
    step = {0: 100, 1: 10, 2: 1}[places]
    cents = draw(st.integers(-(-min_cents // step), max_cents // step)) * step
    return _money_text(cents, places)


@st.composite
def quantity(draw: st.DrawFn) -> str:
    """Greater than zero, at most five places."""
    places = draw(st.integers(0, 5))
    units = draw(st.integers(1, 1000 * 10**places))
    return format(Decimal(units).scaleb(-places), "f")


@st.composite
def percent(draw: st.DrawFn) -> str:
    """0 to 100, at most five places."""
    places = draw(st.integers(0, 5))
    units = draw(st.integers(0, 100 * 10**places))
    return format(Decimal(units).scaleb(-places), "f")


days = st.dates(EARLIEST, LATEST)
_offsets = st.one_of(st.just(UTC), st.integers(-12 * 4, 14 * 4).map(
    lambda quarters: timezone(timedelta(minutes=15 * quarters))))


@st.composite
def instant(draw: st.DrawFn) -> str:
    """RFC 3339 with an offset, its date as written 1900-2199."""
    moment = draw(st.datetimes(datetime(1900, 1, 1), datetime(2199, 12, 31, 23, 59, 59)))
    if not draw(st.booleans()):
        moment = moment.replace(microsecond=0)
    zone = draw(_offsets)
    written = moment.replace(tzinfo=zone).isoformat()
    return written.replace("+00:00", "Z") if zone is UTC and draw(st.booleans()) else written


_local = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789._+-"), min_size=1,
                 max_size=20)
_label = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-"), min_size=1,
                 max_size=20)
emails = st.builds(lambda local, host, tld: f"{local}@{host}.{tld}", _local, _label,
                   st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=2,
                           max_size=6))
currencies = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=3, max_size=3)


# Optional fields with a default of their own: absent means the default, and ``null`` is no
# value of theirs (the OpenAPI document allows it for none of them).
NOT_NULL = {"quantity", "status", "method", "source"}


def _optional(draw: st.DrawFn, body: dict[str, Any], key: str,
              strategy: st.SearchStrategy[Any]) -> None:
    """An optional field: absent, present, or (where the contract allows) ``null``."""
    choices = ("absent", "present", "present") + (() if key in NOT_NULL else ("null",))
    choice = draw(st.sampled_from(choices))
    if choice == "present":
        body[key] = draw(strategy)
    elif choice == "null":
        body[key] = None


@st.composite
def addresses(draw: st.DrawFn) -> dict[str, Any]:
    address: dict[str, Any] = {}
    for key, (_kind, _required, limit) in SPEC["Address"].items():
        _optional(draw, address, key, text(limit or 255))
    return address


@st.composite
def contacts(draw: st.DrawFn) -> dict[str, Any]:
    contact: dict[str, Any] = {"external_id": draw(ids), "name": draw(text(500))}
    # An empty email is "no email" (the hub reads it as absent).
    _optional(draw, contact, "email", st.one_of(emails, st.just("")))
    _optional(draw, contact, "phone", text(30))
    _optional(draw, contact, "company", text(500))
    _optional(draw, contact, "address", addresses())
    return contact


@st.composite
def lines(draw: st.DrawFn) -> dict[str, Any]:
    line: dict[str, Any] = {"item": draw(text(100)), "unit_price": draw(money())}
    _optional(draw, line, "description", text(4000, _layout_char))
    _optional(draw, line, "quantity", quantity())
    _optional(draw, line, "service_date", days.map(date.isoformat))
    return line


def line_amount(line: dict[str, Any]) -> Decimal:
    """A line's amount as the contract says: quantity × unit price, to the cent (half up)."""
    quantity = Decimal(line.get("quantity") or "1")
    return (quantity * Decimal(line["unit_price"])).quantize(CENT, ROUND_HALF_UP)


def _of(part: dict[str, Any] | None, key: str, base: Decimal) -> Decimal:
    if not part:
        return Decimal("0.00")
    if part.get("amount") is not None:
        return Decimal(part["amount"])
    return (base * Decimal(part[key]) / 100).quantize(CENT, ROUND_HALF_UP)


@st.composite
def invoices(draw: st.DrawFn, event_type: str = "invoice.sent") -> dict[str, Any]:
    issued = draw(days)
    invoice: dict[str, Any] = {"external_id": draw(ids), "contact": draw(contacts()),
                               "issue_date": issued.isoformat(),
                               "lines": draw(st.lists(lines(), min_size=1, max_size=4))}
    _optional(draw, invoice, "number", text(21))
    _optional(draw, invoice, "status", st.sampled_from(SPEC["Invoice"]["status"][0][1]))
    _optional(draw, invoice, "due_date", st.dates(issued, LATEST).map(date.isoformat))
    _optional(draw, invoice, "currency", currencies)
    _optional(draw, invoice, "billing_email", emails)
    subtotal = sum((line_amount(line) for line in invoice["lines"]), Decimal("0.00"))
    cents = int(subtotal * 100)
    _optional(draw, invoice, "discount", st.one_of(
        st.fixed_dictionaries({"percent": percent()}),
        st.fixed_dictionaries({"amount": money(max_cents=cents)})))
    discount = _of(invoice.get("discount"), "percent", subtotal)
    _optional(draw, invoice, "tax", st.one_of(
        st.fixed_dictionaries({"rate_percent": percent()}),
        st.fixed_dictionaries({"amount": money()})))
    total = subtotal - discount + _of(invoice.get("tax"), "rate_percent", subtotal - discount)
    _optional(draw, invoice, "total", st.just(f"{total:.2f}"))
    paid = st.integers(0, int(total * 100)).map(lambda c: _money_text(c, 2))
    if event_type == "invoice.paid":  # the contract: an Invoice with amount_paid
        invoice["amount_paid"] = draw(paid)
    else:
        _optional(draw, invoice, "amount_paid", paid)
    return invoice


@st.composite
def payments(draw: st.DrawFn) -> dict[str, Any]:
    payment: dict[str, Any] = {"external_id": draw(ids), "contact": draw(contacts())}
    with_lines = draw(st.booleans())
    if with_lines:
        payment["lines"] = draw(st.lists(lines(), min_size=1, max_size=3).filter(
            lambda ls: sum(line_amount(line) for line in ls) > 0))
        payment["amount"] = f"{sum(line_amount(line) for line in payment['lines']):.2f}"
    else:
        payment["amount"] = draw(money(min_cents=1))
    _optional(draw, payment, "currency", currencies)
    _optional(draw, payment, "paid_at", instant())
    _optional(draw, payment, "method", st.sampled_from(SPEC["Payment"]["method"][0][1]))
    _optional(draw, payment, "source", st.sampled_from(SPEC["Payment"]["source"][0][1]))
    return payment


@st.composite
def bookings(draw: st.DrawFn) -> dict[str, Any]:
    booking: dict[str, Any] = {"external_id": draw(ids), "contact": draw(contacts()),
                               "service": draw(text(100)), "start": draw(instant()),
                               "duration_minutes": draw(st.integers(1, 24 * 60)),
                               "rate": draw(money())}
    gross = (Decimal(booking["rate"]) * booking["duration_minutes"] / 60).quantize(
        CENT, ROUND_HALF_UP)
    _optional(draw, booking, "discount", st.one_of(
        st.fixed_dictionaries({"percent": percent()}),
        st.fixed_dictionaries({"amount": money(max_cents=int(gross * 100))})))
    _optional(draw, booking, "currency", currencies)
    _optional(draw, booking, "status", st.sampled_from(SPEC["Booking"]["status"][0][1]))
    _optional(draw, booking, "billing", st.sampled_from(SPEC["Booking"]["billing"][0][1]))
    return booking


def data_for(event_type: str) -> st.SearchStrategy[dict[str, Any]]:
    if event_type == "contact":
        return contacts()
    if event_type == "payment":
        return payments()
    if event_type == "booking":
        return bookings()
    return invoices(event_type)


@st.composite
def valid_events(draw: st.DrawFn, event_type: str | None = None) -> dict[str, Any]:
    """A body the hub must accept: ``{"id", "type", "occurred_at", "data"}``."""
    chosen = event_type or draw(st.sampled_from(EVENT_TYPES))
    return {"id": draw(ids), "type": chosen, "occurred_at": draw(instant()),
            "data": draw(data_for(chosen))}


# -- almost valid: one thing wrong ----------------------------------------------------------

@dataclass(frozen=True)
class Field:
    path: str  # as the hub names it: data.lines[0].unit_price
    parent: tuple[str | int, ...]  # where the field sits in the body
    key: str
    kind: Kind
    required: bool
    max_length: int | None


def fields(body: dict[str, Any]) -> list[Field]:
    """Every field present in a valid body, with its kind, found through ``SPEC``."""
    found: list[Field] = []

    def walk(obj: dict[str, Any], model: str, where: tuple[str | int, ...], path: str) -> None:
        for key, value in obj.items():
            kind, required, limit = SPEC[model][key]
            here = f"{path}.{key}" if path else key
            found.append(Field(here, where, key, kind, required, limit))
            if kind == "data":
                walk(value, MODEL_OF[body["type"]], (*where, key), here)
            elif isinstance(kind, tuple) and kind[0] == "model" and value is not None:
                walk(value, kind[1], (*where, key), here)
            elif isinstance(kind, tuple) and kind[0] == "list" and value is not None:
                for i, item in enumerate(value):
                    walk(item, kind[1], (*where, key, i), f"{here}[{i}]")

    walk(body, "Envelope", (), "")
    return found


def objects(body: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str, str]]:
    """Every object in a body: (where, its model, its path)."""
    found = [((), "Envelope", "")]
    for field in fields(body):
        kind = field.kind
        where = (*field.parent, field.key)
        value = at(body, where)
        if kind == "data":
            found.append((where, MODEL_OF[body["type"]], field.path))
        elif isinstance(kind, tuple) and kind[0] == "model" and value is not None:
            found.append((where, kind[1], field.path))
        elif isinstance(kind, tuple) and kind[0] == "list" and value is not None:
            found += [((*where, i), kind[1], f"{field.path}[{i}]") for i in range(len(value))]
    return found


def at(body: Any, where: tuple[str | int, ...]) -> Any:
    for step in where:
        body = body[step]
    return body


DATE_KINDS = ("day", "instant")
NUMBER_KINDS = ("money", "quantity", "percent")
TEXT_KINDS = ("text", "long_text", "id", "email")


def _years_out(kind: str) -> st.SearchStrategy[str]:
    """A date or instant outside 1900-2199, as written (the issue's own cases among them)."""
    years = st.one_of(st.integers(1, 1899), st.integers(2200, 9999))
    if kind == "day":
        return st.one_of(st.sampled_from(["0001-01-01", "1899-12-31", "2200-01-01",
                                          "9999-12-31", "0011-01-09"]),
                         years.map(lambda y: f"{y:04d}-06-15"))
    return st.one_of(st.sampled_from(["0011-01-09T02:36:01Z", "0001-01-01T00:00:00+14:00",
                                      "9999-12-31T23:59:59-14:00", "1899-12-31T23:59:59Z",
                                      "2200-01-01T00:00:00+00:00"]),
                     years.map(lambda y: f"{y:04d}-06-15T12:00:00Z"))


def _too_many_digits(kind: str) -> st.SearchStrategy[str]:
    """More digits than QuickBooks keeps (15 significant), or more places than the kind has."""
    places = {"money": 2, "quantity": 5, "percent": 5}[kind]
    return st.one_of(
        st.integers(16, 60).map(lambda n: "9" * n),
        st.just("9" * 400),
        st.integers(places + 1, 30).map(lambda n: "1." + "1" * n),
        st.integers(16, 30).map(lambda n: "1" + "0" * n + ".5"),
    )


def _control(kind: str) -> st.SearchStrategy[str]:
    allowed_layout = "\n\r\t" if kind == "long_text" else ""
    controls = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in allowed_layout]
    return st.one_of(st.sampled_from(controls), st.sampled_from(["\ud800", "\udfff"]))


def _wrong_type(field: Field) -> st.SearchStrategy[Any]:
    """A JSON value of another type, that no lenient reading could take for the right one."""
    containers = st.sampled_from([[], ["x"], {}, {"a": 1}])
    kind = field.kind
    if kind == "data" or (isinstance(kind, tuple) and kind[0] == "model"):
        return st.sampled_from([[], ["x"], "x", 12, 1.5, True])
    if isinstance(kind, tuple) and kind[0] == "list":
        return st.sampled_from([{}, {"item": "x"}, "x", 12, True])
    if kind == "minutes":  # a JSON integer: not a boolean, not a string of digits
        return st.one_of(containers, st.sampled_from(["sixty", 60.5, "1.5", True, "60"]))
    if kind in NUMBER_KINDS:  # a decimal string; a JSON number is refused by contract
        return st.one_of(containers, st.sampled_from([65, 65.0, 0.1, True]))
    if kind in DATE_KINDS:  # YYYY-MM-DD or RFC 3339, never a Unix time
        return st.one_of(containers, st.sampled_from([True, 1.5, 1774742400, "1774742400"]))
    return st.one_of(containers, st.sampled_from([12, 1.5, True, False]))


# Stands for a value nested ``depth`` lists deep, which json.dumps (recursive) cannot write.
DEEP = "\u2063nested\u2063"


@dataclass(frozen=True)
class Broken:
    """An almost-valid body, what was done to it, and the field the hub must name."""

    body: dict[str, Any]
    mutation: str
    path: str
    depth: int = 0  # for "nested too deep": how many lists stand where DEEP is

    def json(self) -> str:
        """The body as sent: JSON, with any text escaped (lone surrogates too)."""
        text = json.dumps(self.body)
        if self.depth:
            text = text.replace(json.dumps(DEEP), "[" * self.depth + "]" * self.depth)
        return text


@st.composite
def almost_valid_events(draw: st.DrawFn, event_type: str | None = None) -> Broken:
    """A valid body with exactly one field broken: out of range, too many digits, a control
    character, the wrong type, an extra key, a required key missing, or a value nested deeper
    than any event (the hub names the body for that one: it is refused before it is read)."""
    body = copy.deepcopy(draw(valid_events(event_type)))
    present = [f for f in fields(body) if at(body, (*f.parent, f.key)) is not None]
    options: list[str] = ["wrong type", "extra key", "missing key", "nested too deep"]
    if any(f.kind in DATE_KINDS for f in present):
        options.append("out-of-range date")
    if any(f.kind in NUMBER_KINDS for f in present):
        options.append("too many digits")
    if any(f.kind in TEXT_KINDS for f in present):
        options.append("control character")
    mutation = draw(st.sampled_from(options))
    if mutation == "extra key":
        where, model, path = draw(st.sampled_from(objects(body)))
        key = draw(st.text(min_size=1, max_size=20).filter(lambda k: k not in SPEC[model]))
        at(body, where)[key] = draw(st.one_of(st.none(), st.text(max_size=5), st.integers()))
        return Broken(body, mutation, f"{path}.{key}" if path else key)
    if mutation == "nested too deep":
        field = draw(st.sampled_from(present))
        at(body, field.parent)[field.key] = DEEP
        return Broken(body, mutation, "body", depth=draw(st.sampled_from([40, 100, 3000])))
    if mutation == "missing key":
        field = draw(st.sampled_from([f for f in present if f.required]))
        del at(body, field.parent)[field.key]
        return Broken(body, mutation, field.path)
    candidates = {
        "wrong type": present,
        "out-of-range date": [f for f in present if f.kind in DATE_KINDS],
        "too many digits": [f for f in present if f.kind in NUMBER_KINDS],
        "control character": [f for f in present if f.kind in TEXT_KINDS],
    }[mutation]
    field = draw(st.sampled_from(candidates))
    parent = at(body, field.parent)
    if mutation == "wrong type":
        parent[field.key] = draw(_wrong_type(field))
    elif mutation == "out-of-range date":
        parent[field.key] = draw(_years_out(field.kind))
    elif mutation == "too many digits":
        parent[field.key] = draw(_too_many_digits(field.kind))
    else:
        # Inside the text, between two letters it did not have: at either end, or beside the
        # text's surrounding spaces, a control character that is also whitespace (a tab,
        # U+001F) would be stripped along with them.
        value = parent[field.key][: (field.max_length or 255) - 3]
        cut = draw(st.integers(0, len(value)))
        parent[field.key] = value[:cut] + "a" + draw(_control(field.kind)) + "a" + value[cut:]
    return Broken(body, mutation, field.path)


def parent_path(path: str) -> str:
    """The object holding a field: ``data.lines[0]`` for ``data.lines[0].unit_price``."""
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def names_field(error_field: str | None, path: str) -> bool:
    """Whether an error's field is the broken one, a part of it, or the object holding it
    (a check of the object as a whole, like "give exactly one of percent or amount")."""
    if not error_field:
        return False
    return (error_field == path or error_field.startswith((path + ".", path + "["))
            or error_field == parent_path(path))
