"""The kinds of value an event's fields hold, each parsed and bounded in one place: money and
quantities (a decimal string, never a JSON number: ``0.1 + 0.2`` is how a penny of drift gets
into the books), text on one line or several, dates and instants as the contract writes them,
emails, ISO currencies and host ids. ``hub.events`` builds its models from these, and a plugin's
settings may use them too (they are importable from ``hub.events`` as well).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    ValidationError,
    WithJsonSchema,
)

from hub.bounds import (
    MAX_NUMBER_TEXT,
    MULTI_LINE_PATTERN,
    SINGLE_LINE_PATTERN,
    YEAR_PATTERN,
    check_date,
    check_digits,
    check_instant,
    check_money_size,
    multi_line,
    single_line,
)

CENT = Decimal("0.01")


# ASCII digits only: ``\d`` would take Arabic-Indic or full-width digits too.
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _decimal_string(value: Any) -> Any:
    if isinstance(value, (bool, int, float)):
        raise ValueError('must be a decimal string such as "65.00", not a JSON number')
    if isinstance(value, str) and (len(value) > MAX_NUMBER_TEXT
                                   or not _DECIMAL.fullmatch(value.strip())):
        raise ValueError('must be a decimal string such as "65.00", of at most 15 digits')
    return value


def _money_places(value: Decimal) -> Decimal:
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("must have at most two decimal places")
    if value < 0:
        raise ValueError("must not be negative")
    return check_money_size(value + 0, "the amount")  # + 0: "-0.00" is 0.00


def _quantity(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than zero")
    if value.as_tuple().exponent < -5:  # type: ignore[operator]
        raise ValueError("must have at most five decimal places")
    return check_digits(value, "a quantity")


def _percent(value: Decimal) -> Decimal:
    if not (0 <= value <= 100):
        raise ValueError("must be between 0 and 100")
    if value.as_tuple().exponent < -5:  # type: ignore[operator]
        raise ValueError("must have at most five decimal places")
    return value + 0


def _decimal(check: Callable[[Decimal], Decimal]) -> BeforeValidator:
    """A decimal string parsed and checked in one call: every event has many amounts."""

    def validate(value: Any) -> Any:
        value = _decimal_string(value)
        if isinstance(value, str):
            value = Decimal(value.strip())
        return check(value) if isinstance(value, Decimal) else value

    return BeforeValidator(validate)


def _number_schema(pattern: str, example: str) -> WithJsonSchema:
    # What a generated client or a fuzzer needs to know: a string, and its shape.
    return WithJsonSchema({"type": "string", "pattern": pattern, "examples": [example]})


Money = Annotated[Decimal, _decimal(_money_places),
                  _number_schema(r"^[0-9]{1,13}(\.[0-9]{1,2})?$", "65.00")]
Quantity = Annotated[Decimal, _decimal(_quantity),
                     _number_schema(r"^[0-9]{1,10}(\.[0-9]{1,5})?$", "1.5")]
Percent = Annotated[Decimal, _decimal(_percent),
                    _number_schema(r"^(100(\.0{1,5})?|[0-9]{1,2}(\.[0-9]{1,5})?)$", "8.875")]
# Text from outside: one line (a name), or several (a description); never a control character.
Text = Annotated[str, AfterValidator(single_line),
                 Field(json_schema_extra={"pattern": SINGLE_LINE_PATTERN})]
LongText = Annotated[str, AfterValidator(multi_line),
                     Field(json_schema_extra={"pattern": MULTI_LINE_PATTERN})]
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _date_text(value: Any) -> Any:
    # pydantic would also take a number (seconds since 1970) or "1711584000": the contract
    # says YYYY-MM-DD, so that is all that is read (or a date, from a plugin's own code).
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value.strip()):
        raise ValueError("must be a date written YYYY-MM-DD, such as \"2026-03-28\"")
    return value


def _instant_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _INSTANT_TEXT.match(value.strip()):
        raise ValueError("must be an RFC 3339 instant with its offset, such as "
                         "\"2026-03-28T15:04:05Z\"")
    return value


Day = Annotated[date, BeforeValidator(_date_text), AfterValidator(check_date), Field(
    json_schema_extra={"pattern": YEAR_PATTERN, "description": "YYYY-MM-DD, 1900-2199"})]
Instant = Annotated[AwareDatetime, BeforeValidator(_instant_text), AfterValidator(check_instant),
                    Field(
    json_schema_extra={"pattern": YEAR_PATTERN,
                       "description": "RFC 3339 with an offset, its date 1900-2199"})]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD")]
ExternalId = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    single_line(value)
    if not _EMAIL.match(value) or len(value) > 254:
        raise ValueError("is not an email address (expected name@example.com)")
    return value


# The length is checked in _email, not by a Field constraint: "" becomes None there, and a
# constraint after it would be asked the length of None (a 500).
Email = Annotated[str, AfterValidator(_email), Field(json_schema_extra={
    "maxLength": 254, "pattern": r"^[^@\s\u0000-\u001f\u007f-\u009f]+@"
    r"[^@\s\u0000-\u001f\u007f-\u009f]+\.[^@\s\u0000-\u001f\u007f-\u009f]+$"})]


def validation_errors(exc: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    """Pydantic's errors as (field, message) pairs a person can act on."""
    out = []
    for e in exc.errors(include_url=False):
        field = error_field(((prefix,) if prefix else ()) + tuple(e["loc"]))
        message = e["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        out.append((field, message))
    return out


def error_field(loc: tuple[Any, ...]) -> str:
    """Pydantic's error location as the contract writes fields: ``data.lines[0].unit_price``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
