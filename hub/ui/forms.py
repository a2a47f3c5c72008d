"""A plugin's declared settings model as form fields, and a submitted form back as settings.

The plugin declares fields (type, default, description); this module derives the inputs, so a
new setting appears on the page without anyone writing HTML for it.

Why it is ours: WTForms and the form libraries for pydantic want a form class written per model,
or render the whole page themselves; we need inputs derived from any plugin's model at run time,
masked secrets that are kept when left blank, and the hub's own setting bounds, inside the
hub's own templates and CSRF. This module is that small translation and nothing more.
"""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from hub.plugins.setting_bounds import is_long_text


@dataclass
class FormField:
    name: str
    label: str
    kind: str  # checkbox | number | text | textarea | password | select | list
    value: str = ""
    checked: bool = False
    help: str = ""
    default_text: str = ""
    required: bool = False
    step: str = ""
    choices: list[str] = field(default_factory=list)
    secret_set: bool = False  # a password field: is a value stored already?
    errors: list[str] = field(default_factory=list)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` → (X, True); anything else → (itself, False). Annotated is unwrapped too."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                return annotation, optional
            annotation = args[0]
        else:
            return annotation, optional


def _kind(annotation: Any, info: FieldInfo) -> tuple[str, list[str]]:
    base, _ = _unwrap(annotation)
    origin = typing.get_origin(base)
    if base is SecretStr:
        return "password", []
    if base is bool:
        return "checkbox", []
    if base is int or base is float or base is Decimal:
        return "number", []
    if origin in (list, tuple, set, frozenset):
        return "list", []
    if origin is typing.Literal:
        return "select", [str(a) for a in typing.get_args(base)]
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return "select", [str(m.value) for m in base]
    if base is str and is_long_text(info):  # the one kind of text that may hold newlines
        return "textarea", []
    return "text", []


def as_text(value: Any) -> str:
    """A stored value as the operator types it: lists comma-separated, None empty."""
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return ""  # never echoed
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(as_text(v) for v in value)
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)


def _default(info: FieldInfo) -> Any:
    if info.default is not PydanticUndefined:
        return info.default
    if info.default_factory is not None:
        return info.default_factory()  # type: ignore[call-arg]
    return PydanticUndefined


def _sentence(text: str | None) -> str:
    """A field's description as a sentence under its input: capital first, full stop last."""
    text = (text or "").strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _label(name: str, info: FieldInfo) -> str:
    return info.title or name.replace("_", " ").capitalize()


def fields_for(model: type[BaseModel], current: BaseModel | None,
               submitted: dict[str, str] | None = None,
               errors: dict[str, list[str]] | None = None) -> list[FormField]:
    """One input per declared setting, showing ``submitted`` (after a refusal) or ``current``."""
    out = []
    for name, info in model.model_fields.items():
        kind, choices = _kind(info.annotation, info)
        _, optional = _unwrap(info.annotation)
        default = _default(info)
        current_value = getattr(current, name, None) if current is not None else None
        f = FormField(
            name=name, label=_label(name, info), kind=kind, help=_sentence(info.description),
            choices=choices, required=default is PydanticUndefined and not optional,
            errors=(errors or {}).get(name, []),
        )
        if default is not PydanticUndefined and kind not in ("password", "checkbox"):
            f.default_text = as_text(default)
        if kind == "number":
            base, _ = _unwrap(info.annotation)
            f.step = "1" if base is int else "any"
        if kind == "password":
            f.secret_set = bool(current_value)
        elif submitted is not None:
            f.value = submitted.get(name, "")
            f.checked = kind == "checkbox" and name in submitted
        else:
            f.value = as_text(current_value)
            f.checked = bool(current_value) if kind == "checkbox" else False
        if kind == "select" and f.value and f.value not in f.choices:
            f.choices = [f.value, *f.choices]
        out.append(f)
    return out


def updates_from(model: type[BaseModel], form: dict[str, str]) -> dict[str, Any]:
    """The submitted form as ``update_settings`` input.

    An unticked checkbox is not sent by the browser, so absence means off. An empty password
    field keeps the stored secret unless "forget" was ticked. An empty optional field is None.
    """
    updates: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        kind, _ = _kind(info.annotation, info)
        _, optional = _unwrap(info.annotation)
        raw = form.get(name)
        if kind == "checkbox":
            updates[name] = raw is not None
        elif kind == "password":
            if raw:
                updates[name] = raw
            elif form.get(f"{name}__forget") and optional:
                updates[name] = None
        elif raw is None:
            continue
        elif raw.strip() == "" and optional:
            updates[name] = None
        elif kind in ("number", "list"):
            updates[name] = raw.strip()
        else:
            updates[name] = raw
    return updates


def errors_by_field(model: type[BaseModel],
                    errors: list[tuple[str, str]]) -> tuple[dict[str, list[str]], list[str]]:
    """``SettingsError.errors`` split into those for a field (``exempt[1]`` → ``exempt``) and
    the rest, shown at the top of the form."""
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for where, message in errors:
        name = where.split("[", 1)[0].split(".", 1)[0]
        if name in model.model_fields:
            detail = where[len(name):].lstrip(".")
            by_field.setdefault(name, []).append(
                f"{message} (item {_item_number(detail)})" if detail.startswith("[") else message)
        else:
            general.append(message)
    return by_field, general


def _item_number(detail: str) -> str:
    """``[1]`` → ``2``: people count list items from one."""
    inside = detail[1:].split("]", 1)[0]
    return str(int(inside) + 1) if inside.isdigit() else inside
