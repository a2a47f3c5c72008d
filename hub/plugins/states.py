"""The operator's switch and settings for each plugin, stored, validated and cached."""

from __future__ import annotations

import json
import threading
import time
import types
import typing
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import PydanticSerializationError
from sqlalchemy import Engine, insert, select, update

from hub.bounds import shown
from hub.clock import utcnow
from hub.crypto import Crypto
from hub.plugins.registry import PluginInfo
from hub.plugins.setting_bounds import past_bounds
from hub.queue.db import reading
from hub.queue.tables import Meta, PluginState
from hub.values import validation_errors

META = Meta.__table__  # type: ignore[attr-defined]
_STATE_TTL = 2.0  # seconds another process's toggle may take to be seen here


class SettingsError(Exception):
    """Settings refused; ``errors`` lists (field, message) pairs for the form or the terminal."""

    def __init__(self, plugin: str, errors: list[tuple[str, str]]) -> None:
        self.plugin = plugin
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))


def _secret_fields(model: type[BaseModel]) -> set[str]:
    return {name for name, f in model.model_fields.items() if _is_secret(f.annotation)}


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_is_secret(arg) for arg in typing.get_args(annotation))


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return False


def _refuse_past_bounds(name: str, model: type[BaseModel], values: dict[str, Any]) -> None:
    errors = past_bounds(model, values)
    if errors:
        raise SettingsError(name, errors)


def _stored_error(model: type[BaseModel], field: str, message: str,
                  updates: dict[str, Any]) -> tuple[str, str]:
    """A refusal as the operator reads it: one about a setting they did not touch is about
    what was stored before (under a plugin's older rules), fixed by setting it again."""
    key = field.split("[", 1)[0].split(".", 1)[0]
    if key in model.model_fields and key not in updates:
        return field, f"the stored value is refused now: {message}; set {key} again"
    return field or "settings", message


def _as_stored(name: str, model: type[BaseModel], validated: BaseModel) -> dict[str, Any]:
    """``validated`` as the JSON that is stored, once shown to read back as the same value
    (a float "nan" is written as null, which no float field reads back)."""
    try:
        stored: dict[str, Any] = json.loads(validated.model_dump_json())
    except PydanticSerializationError as exc:
        raise SettingsError(name, [("settings", f"cannot be stored: {exc}")]) from None
    plain = dict(stored)
    for key in _secret_fields(model):
        secret = getattr(validated, key)
        plain[key] = secret.get_secret_value() if secret else None
    try:
        back = model.model_validate(plain)
    except ValidationError as exc:
        raise SettingsError(name, [(field or "settings", f"would not read back once stored "
                                    f"({msg}): give it another way")
                                   for field, msg in validation_errors(exc)]) from None
    changed = [key for key in model.model_fields
               if getattr(back, key) != getattr(validated, key)]
    if changed:
        raise SettingsError(name, [(key, "would not read back as given once stored: give it "
                                    "another way") for key in changed])
    return stored


class Refused(SettingsError):
    """A plugin the hub will not switch on; ``reason`` says why and what would fix it."""

    def __init__(self, plugin: str, reason: str) -> None:
        self.reason = reason
        super().__init__(plugin, [("plugin", f"{plugin} cannot be enabled: {reason}")])

    def __str__(self) -> str:
        return f"{self.plugin} cannot be enabled: {self.reason}"


class PluginStates:
    """The persisted switch and settings of every plugin, cached briefly for the hot path."""

    def __init__(self, engine: Engine, crypto: Crypto, infos: dict[str, PluginInfo]) -> None:
        self.engine = engine
        self.crypto = crypto
        self.infos = infos
        self._lock = threading.Lock()
        self._loaded_at = -1e9
        self._rows: dict[str, tuple[bool, dict[str, Any]]] = {}
        self._settings: dict[str, BaseModel | None] = {}
        self.version = 0

    def _load(self) -> None:
        # Checked first without the lock: every request and delivery asks, from many threads,
        # and queueing on the lock each time cost more than the answer.
        if time.monotonic() - self._loaded_at < _STATE_TTL:
            return
        with self._lock:
            if time.monotonic() - self._loaded_at < _STATE_TTL:
                return
            with reading(self.engine) as conn:
                rows = conn.execute(select(PluginState.__table__)).mappings().all()  # type: ignore[attr-defined]
                meta = conn.execute(
                    select(META.c.value).where(META.c.key == "settings_version")
                ).scalar()
            loaded = {r["name"]: (bool(r["enabled"]), json.loads(r["settings"])) for r in rows}
            if loaded != self._rows:
                self._rows = loaded
                self._settings = {}
            self.version = int(meta or 0)
            self._loaded_at = time.monotonic()

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = -1e9

    def enabled(self, name: str) -> bool:
        """Whether the plugin runs: switched on (or on by default), not refused at discovery,
        and every plugin it ``NEEDS`` running too."""
        self._load()
        return self._runs(name, set())

    def switched_on(self, name: str) -> bool:
        """Whether the operator's switch (or the plugin's default) says on, whether or not it
        runs: a plugin switched on whose needs are off waits, and must still be switchable off
        (else it would start unbidden the day its need is turned on)."""
        self._load()
        return self._switched_on(name)

    def _switched_on(self, name: str) -> bool:
        row = self._rows.get(name)
        return row[0] if row else self.infos[name].enabled_by_default

    def _runs(self, name: str, seen: set[str]) -> bool:
        info = self.infos.get(name)
        if info is None or info.refused is not None or not self._switched_on(name):
            return False
        seen.add(name)
        return all(need in seen or self._runs(need, seen) for need in info.needs)

    def refusal(self, name: str) -> str | None:
        """Why the hub will not switch this plugin on now, or None: the reason discovery
        recorded (``PluginInfo.refused``), or a plugin it needs that is switched off."""
        info = self.infos.get(name)
        if info is None:
            return None
        if info.refused is not None:
            return info.refused
        self._load()
        off = [need for need in info.needs if not self._runs(need, {name})]
        if off:
            return (f"it needs {', '.join(off)}, which {'is' if len(off) == 1 else 'are'} "
                    f"turned off: enable {' and '.join(off)} first")
        return None

    def settings(self, name: str) -> BaseModel | None:
        """The plugin's validated settings, secrets decrypted, defaults filled in."""
        self._load()
        if name in self._settings:
            return self._settings[name]
        model = self.infos[name].settings_model
        if model is None:
            return None
        value = model.model_validate(self._stored(name, model))
        self._settings[name] = value
        return value

    def _stored(self, name: str, model: type[BaseModel]) -> dict[str, Any]:
        """What is stored for the plugin, secrets decrypted. A setting the plugin no longer
        declares is dropped rather than refusing to start."""
        stored = dict(self._rows.get(name, (True, {}))[1])
        for key, value in list(stored.items()):
            if isinstance(value, dict) and "$enc" in value:
                stored[key] = self.crypto.decrypt(value["$enc"])
        return {k: v for k, v in stored.items() if k in model.model_fields}

    def raw_settings(self, name: str) -> dict[str, Any]:
        self._load()
        return dict(self._rows.get(name, (True, {}))[1])

    def _require(self, name: str) -> PluginInfo:
        if name not in self.infos:
            known = ", ".join(sorted(self.infos)) or "none"
            raise SettingsError(name, [("plugin", f"no plugin named {shown(name)}; found: "
                                                  f"{known}")])
        return self.infos[name]

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Switch a plugin on or off; switching on one the hub refuses raises ``Refused``."""
        self._require(name)
        if enabled:
            reason = self.refusal(name)
            if reason is not None:
                raise Refused(name, reason)
        self._write(name, enabled=enabled)

    def update_settings(self, name: str, updates: dict[str, Any]) -> BaseModel:
        """Validate ``updates`` over the current settings and store them, or raise SettingsError.

        Values may be strings as typed on a command line: a list setting takes commas. Each is
        held to the plugin's model and to the bounds of every setting (``hub.setting_bounds``), and
        what is stored is read back first, so it always reads back as it was saved.
        """
        info = self._require(name)
        model = info.settings_model
        if model is None:
            raise SettingsError(name, [("plugin", f"{name} has no settings")])
        unknown = [k for k in updates if k not in model.model_fields]
        if unknown:
            known = ", ".join(model.model_fields)
            raise SettingsError(
                name, [(k if k.isidentifier() else shown(k),
                        f"{name} has no setting {shown(k)}; its settings are: {known}")
                       for k in unknown]
            )
        typed: dict[str, Any] = {}
        for key, value in updates.items():
            if isinstance(value, str) and _is_list(model.model_fields[key].annotation):
                value = [part.strip() for part in value.split(",") if part.strip()]
            typed[key] = value
        # As typed, before the plugin's validators see it (and repeat it in their messages).
        _refuse_past_bounds(name, model, typed)
        merged = self._current_values(name, model)
        merged.update(typed)
        try:
            validated = model.model_validate(merged)
        except ValidationError as exc:
            raise SettingsError(name, [
                _stored_error(model, field, msg, updates)
                for field, msg in validation_errors(exc)]) from None
        # As parsed: "nan" is a float, "1e999" a Decimal, only once validated.
        _refuse_past_bounds(name, model, {k: getattr(validated, k) for k in typed})
        stored = _as_stored(name, model, validated)
        for key in _secret_fields(model):
            secret = getattr(validated, key)
            stored[key] = (
                {"$enc": self.crypto.encrypt(secret.get_secret_value())} if secret else None
            )
        self._write(name, settings=stored)
        return validated

    def _current_values(self, name: str, model: type[BaseModel]) -> dict[str, Any]:
        """The settings as they stand, to update: validated, or if what is stored no longer
        validates (a newer plugin's rules), as stored, so the operator can set it right."""
        try:
            current = self.settings(name)
        except ValidationError:
            return self._stored(name, model)
        merged: dict[str, Any] = {}
        for key in model.model_fields:
            value = getattr(current, key)
            merged[key] = value.get_secret_value() if isinstance(value, SecretStr) else value
        return merged

    def _write(self, name: str, enabled: bool | None = None,
               settings: dict[str, Any] | None = None) -> None:
        table = PluginState.__table__  # type: ignore[attr-defined]
        now = utcnow()
        with self.engine.begin() as conn:
            row = conn.execute(select(table).where(table.c.name == name)).mappings().first()
            if row is None:
                conn.execute(insert(table).values(
                    name=name,
                    enabled=self.infos[name].enabled_by_default if enabled is None else enabled,
                    settings=json.dumps(settings or {}), updated_at=now,
                ))
            else:
                values: dict[str, Any] = {"updated_at": now}
                if enabled is not None:
                    values["enabled"] = enabled
                if settings is not None:
                    values["settings"] = json.dumps(settings)
                conn.execute(update(table).where(table.c.name == name).values(**values))
            _bump_version(conn)
        self.invalidate()

    def rotate_secrets(self) -> int:
        """Re-encrypt every stored secret setting under the newest key; returns how many."""
        count = 0
        table = PluginState.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            for row in conn.execute(select(table)).mappings().all():
                settings = json.loads(row["settings"])
                for value in settings.values():
                    if isinstance(value, dict) and "$enc" in value:
                        value["$enc"] = self.crypto.rotate(value["$enc"])
                        count += 1
                conn.execute(update(table).where(table.c.name == row["name"])
                             .values(settings=json.dumps(settings)))
        self.invalidate()
        return count


def _bump_version(conn: Any) -> None:
    table = Meta.__table__  # type: ignore[attr-defined]
    current = conn.execute(select(table.c.value).where(table.c.key == "settings_version")).scalar()
    if current is None:
        conn.execute(insert(table).values(key="settings_version", value="1"))
    else:
        conn.execute(update(table).where(table.c.key == "settings_version")
                     .values(value=str(int(current) + 1)))
