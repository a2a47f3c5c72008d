"""The configuration in words: each value as it may be printed or logged, a wrong value
explained in one sentence, and the README's table of variables.

Separate from ``hub/config.py``, which declares the fields and reads them: this reads only the
metadata each field carries (its variable, ``must``, ``secret``, ``url``, ``shown_default``)
from the settings class it is handed, so the wording of what is shown can change without
touching what is read, and a secret stays masked wherever a new field is added.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ValidationError


class Shown(str):
    """A value already made fit to print: shown without quotes added."""

    def __repr__(self) -> str:
        return str(self)


def env_name(model: type[BaseModel], name: str) -> str:
    """The variable the field ``name`` is read from."""
    alias = model.model_fields[name].validation_alias
    return alias if isinstance(alias, str) else name.upper()


def _extra(model: type[BaseModel], name: str) -> dict[str, Any]:
    extra = model.model_fields[name].json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _secret(model: type[BaseModel], name: str) -> bool:
    return bool(_extra(model, name).get("secret"))


def _url(model: type[BaseModel], name: str) -> bool:
    # A URL may carry a password, or a token in its query, though it is not a secret.
    return bool(_extra(model, name).get("url"))


def shown_value(model: type[BaseModel], name: str, value: Any) -> str:
    """A field's value as it may be printed: a secret as ``***`` (or ``None`` when unset), a
    URL with its password and query masked."""
    if _secret(model, name):
        return "***" if value else repr(value)
    if _url(model, name) and isinstance(value, str):
        return repr(masked_url(value, query=True))
    return repr(value)


def explained(model: type[BaseModel], exc: ValidationError) -> str:
    """pydantic's errors as one line: each variable, what it must be, and what it was (a
    secret's value never: only that it was wrong)."""
    fields = model.model_fields
    by_key = {env_name(model, n): n for n in fields} | {n: n for n in fields}
    problems = []
    for e in exc.errors(include_url=False):
        key = str(e["loc"][0]) if e["loc"] else ""
        name = by_key.get(key)
        if name is None:
            problems.append(e["msg"])
            continue
        raised = (e.get("ctx") or {}).get("error")
        must = str(raised) if isinstance(raised, ValueError) and str(raised) \
            else _extra(model, name)["must"]
        given = e.get("input")
        if _secret(model, name):
            problems.append(f"{env_name(model, name)} must be {must} (a secret: its value is "
                            "not shown)")
            continue
        if _url(model, name) and isinstance(given, str):
            shown = json.dumps(masked_url(given, query=True))
        else:
            shown = json.dumps(given) if isinstance(given, str) else repr(given)
        problems.append(f"{env_name(model, name)} must be {must}, not {shown}")
    return "; ".join(problems)


def variables_table(model: type[BaseModel]) -> str:
    """The table of variables, a Markdown row per field: its variable, meaning and default."""
    rows = ["| variable | meaning | default |", "| --- | --- | --- |"]
    for name, field in model.model_fields.items():
        default = _extra(model, name).get("shown_default")
        if default is None:
            value = field.default
            if value is None or value == ():
                default = "none"
            else:
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                default = f"`{value}`"
        cells = (f"`{env_name(model, name)}`", field.description or "", default)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def masked_url(url: str, query: bool = False) -> str:
    """A URL as it may be shown or logged: its password (a database's, say) replaced, and with
    ``query`` its query too (a webhook's token may ride there)."""
    try:
        parts = urlsplit(url)
        password, port = parts.password, parts.port
    except ValueError:
        return "***"
    if password is None and not (query and parts.query):
        return url  # unsplitting would change it (sqlite:////abs/path loses a slash)
    if query and parts.query:
        parts = parts._replace(query="***")
    if password is not None:
        user = parts.username or ""
        host = parts.hostname or ""
        parts = parts._replace(netloc=f"{user}:***@{host}{f':{port}' if port else ''}")
    return urlunsplit(parts)
