"""The bounds every value from outside is held to, whoever sent it: a host, Intuit, an operator.

A value past these bounds is refused where it arrives, with a sentence naming the fix, because
it would otherwise fail later, far from whoever sent it: a year 11 that SQLite stores as
``11-01-09`` and no claim can read back, a NUL byte PostgreSQL cannot keep, a 400-digit quantity
whose product no decimal context holds, a name QuickBooks refuses. Each check raises
``ValueError`` with that sentence, so pydantic models, forms and the command line word it alike.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)
# The same bounds as JSON Schema can say them, for the OpenAPI document: a year 1900-2199.
YEAR_PATTERN = "^(19[0-9]{2}|2[01][0-9]{2})-"

# QuickBooks keeps 15 significant digits in an amount; money has two places, so 13 before them.
MAX_DIGITS = 15
MAX_MONEY = Decimal("9999999999999.99")
# Longer than any amount of 15 digits can be written (sign, point, leading zeros): refused
# before it is parsed at all.
MAX_NUMBER_TEXT = 40

# How deep a JSON body may nest. An event is at most five levels deep (envelope, data,
# lines, a line, its discount); 32 leaves room for any host, and stays far from the
# interpreter's recursion limit, which every encoder and validator would hit first.
MAX_JSON_DEPTH = 32

# Text as JSON Schema can say it: no C0 or C1 control character (nor DEL); multi-line text
# may hold a newline, a carriage return or a tab.
SINGLE_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
MULTI_LINE_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"

# Characters that end a line or indent one: allowed in multi-line text (a description).
_LAYOUT = frozenset("\n\r\t")


def _bad_character(value: str, allowed: frozenset[str]) -> str | None:
    for position, char in enumerate(value):
        if char in allowed:
            continue
        category = unicodedata.category(char)
        if category == "Cc":
            return f"U+{ord(char):04X} (a control character) at position {position}"
        if category == "Cs":
            return f"U+{ord(char):04X} (half of a UTF-16 pair, alone) at position {position}"
    return None


def _is_plain(value: str) -> bool:
    # The common case, checked at C speed: printable ASCII only.
    return value.isascii() and value.isprintable()


def single_line(value: str) -> str:
    """Text on one line: no control characters at all (no NUL, no newline, no tab)."""
    if _is_plain(value):
        return value
    found = _bad_character(value, frozenset())
    if found:
        raise ValueError(f"must be text on one line, without control characters; it holds "
                         f"{found}: remove it")
    return value


def multi_line(value: str) -> str:
    """Text that may run over lines (newlines and tabs allowed), with no other control
    characters."""
    if _is_plain(value):
        return value
    found = _bad_character(value, _LAYOUT)
    if found:
        raise ValueError(f"must be text without control characters other than newlines and "
                         f"tabs; it holds {found}: remove it")
    return value


def check_date(value: date) -> date:
    """A calendar date a business can mean."""
    if not (EARLIEST <= value <= LATEST):
        raise ValueError(f"must be a date from {EARLIEST} to {LATEST}, not {value.isoformat()}")
    return value


def check_instant(value: datetime) -> datetime:
    """An instant a business can mean: its date, as written, from 1900 to 2199, whatever its
    offset (so converting it to UTC never leaves the calendar, and the OpenAPI pattern on the
    year says exactly what is accepted)."""
    if not (EARLIEST.year <= value.year <= LATEST.year):
        raise ValueError(f"must be an instant from {EARLIEST}T00:00:00 to {LATEST}T23:59:59, "
                         f"not {value.isoformat()}")
    return value


def check_digits(value: Decimal, what: str = "a number") -> Decimal:
    """At most MAX_DIGITS significant digits, as QuickBooks keeps."""
    if len(value.as_tuple().digits) > MAX_DIGITS and value != 0:
        raise ValueError(f"must be {what} of at most {MAX_DIGITS} significant digits, as "
                         "QuickBooks keeps")
    return value


def check_money_size(value: Decimal, what: str = "the amount") -> Decimal:
    if abs(value) > MAX_MONEY:
        raise ValueError(f"{what} {value} is more than QuickBooks can hold "
                         f"(at most {MAX_MONEY:,})")
    return value


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed JSON value nests deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False


def check_number(value: int | float | Decimal, what: str = "a number") -> int | float | Decimal:
    """A number a setting can mean: finite, of at most MAX_DIGITS significant digits and
    under 10**MAX_DIGITS in size (what QuickBooks keeps, and what a JavaScript client of the
    settings reads exactly). A plugin's own bounds (``le=1440``) are usually tighter."""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"must be {what}, not {value}")
    if number != 0 and (number.adjusted() >= MAX_DIGITS
                        or len(number.as_tuple().digits) > MAX_DIGITS):
        raise ValueError(f"must be {what} of at most {MAX_DIGITS} digits")
    return value


def shown(value: str, limit: int = 60) -> str:
    """``value`` quoted for a message, control characters escaped, and cut short past ``limit``
    characters: a message about a 100,000-character value need not repeat it."""
    if len(value) <= limit:
        return repr(value)
    return repr(value[:limit])[:-1] + f"… ({len(value):,} characters)" + repr(value)[-1]
