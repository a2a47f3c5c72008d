"""What every plugin setting is held to, whatever its plugin declares: text without control
characters (newlines only in a message), at most so long; lists of at most so many items;
finite numbers of at most 15 digits; dates a business can mean. The plugin's own limits
(``max_length=100``) apply too and are mostly tighter.
"""

from __future__ import annotations

import enum
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from hub.bounds import (
    MAX_DIGITS,
    MAX_NUMBER_TEXT,
    check_date,
    check_instant,
    check_number,
    multi_line,
    shown,
    single_line,
)

# What every setting is held to, whatever its plugin declares (the plugin's own limits, such as
# max_length=100, apply too and are mostly tighter). A setting is read by every delivery and
# shown on the settings page; past these it is a slip of the keyboard, not a configuration.
MAX_SETTING_TEXT = 2_000  # a value without a max_length of its own: a name, a URL, a token
MAX_SETTING_ITEMS = 1_000  # items in a list: a thousand emails is already a long page
LONG_TEXT = 200  # text allowed more characters than this is a message: it may run over lines


def max_length(info: FieldInfo) -> int:
    """The ``max_length`` a field declares; 0 when it declares none."""
    for item in info.metadata:
        limit = getattr(item, "max_length", None)
        if limit is not None:
            return int(limit)
    return 0


def is_long_text(info: FieldInfo) -> bool:
    """Whether a text setting may hold newlines and tabs: a message (a text area on the settings
    page), not a name."""
    return max_length(info) > LONG_TEXT


def setting_problem(value: Any, info: FieldInfo) -> tuple[str, str] | None:
    """(where in the setting, what to do) for a value past the bounds every setting is held
    to, or None. ``where`` is ``""`` for the whole value, ``[3]`` for an item of a list."""
    if isinstance(value, str) and len(value.strip()) > MAX_NUMBER_TEXT \
            and _is_number(info.annotation):
        # Longer than any number of 15 digits can be written: not parsed at all.
        return "", f"must be a number of at most {MAX_DIGITS} digits"
    return _problem(value, is_long_text(info), max_length(info) or MAX_SETTING_TEXT)


def _problem(value: Any, lines: bool, limit: int) -> tuple[str, str] | None:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return _items_problem(value)
    if isinstance(value, BaseModel):
        for key in type(value).model_fields:
            found = _problem(getattr(value, key), False, MAX_SETTING_TEXT)
            if found:
                return f".{key}{found[0]}", found[1]
        return None
    try:
        if isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, (int, float, Decimal)):
            check_number(value)
        elif isinstance(value, datetime):
            check_instant(value)
        elif isinstance(value, date):
            check_date(value)
        else:  # text, and what is written as text: a URL, a path
            _check_text(value if isinstance(value, str) else str(value), lines, limit)
    except ValueError as exc:
        return "", str(exc)
    return None


def _items_problem(value: Any) -> tuple[str, str] | None:
    if len(value) > MAX_SETTING_ITEMS:
        return "", (f"has {len(value):,} items; a setting holds at most {MAX_SETTING_ITEMS:,}: "
                    "keep the ones in use")
    if isinstance(value, dict):
        for key, item in value.items():
            found = _problem(key, False, MAX_SETTING_TEXT) or _problem(item, False,
                                                                       MAX_SETTING_TEXT)
            if found:
                return f"[{shown(str(key))}]{found[0]}", found[1]
        return None
    ordered = isinstance(value, (list, tuple))  # a set's items have no number to name
    for index, item in enumerate(value):
        found = _problem(item, False, MAX_SETTING_TEXT)
        if found:
            return (f"[{index}]" if ordered else "") + found[0], found[1]
    return None


def _check_text(value: str, lines: bool, limit: int) -> None:
    if len(value) > limit:
        raise ValueError(f"is {len(value):,} characters long; at most {limit:,}: shorten it")
    (multi_line if lines else single_line)(value)


def _is_number(annotation: Any) -> bool:
    if annotation in (int, float, Decimal):
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        return any(_is_number(a) for a in typing.get_args(annotation))
    return False


def past_bounds(model: type[BaseModel], values: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, what to do) for each of ``values`` past the bounds of every setting."""
    errors = []
    for key, value in values.items():
        found = setting_problem(value, model.model_fields[key])
        if found:
            errors.append((key + found[0], found[1]))
    return errors
