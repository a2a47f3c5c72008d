"""Plugin settings, tried as a careless or hostile operator would, through each way in: the
settings form, ``hub plugins set``, and ``update_settings`` itself. Every refusal names the
field and the fix; nothing refused is stored; whatever is stored reads back as it was saved."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from hub.config import load_config
from hub.hub import Hub
from hub.plugins.states import SettingsError
from hub.queue.tables import PluginState
from hub.roles.cli import build_cli
from hub.ui import auth
from hub.web.app import create_app
from tests.conftest import ROOT, base_env, subprocess_env
from tests.plugins import typed_settings
from tests.ui.conftest import PASSWORD, client_sign_in

PLUGINS = "typed=tests.plugins.typed_settings"

# (setting, value as typed, what the refusal says). Each was stored as typed before (or, for
# "nan", stored as null, which no read of the settings could validate again).
REFUSED = [
    ("label", "front\x00desk", "U+0000 (a control character) at position 5: remove it"),
    ("label", "front\tdesk", "U+0009 (a control character)"),
    ("label", "front\ndesk", "must be text on one line"),
    ("label", "\x1b[31mred", "U+001B (a control character)"),
    ("label", "x" * 5000, "is 5,000 characters long; at most 2,000: shorten it"),
    ("note", "line one\nline\x07two", "other than newlines and tabs; it holds U+0007"),
    ("count", "9" * 400, "must be a number of at most 15 digits"),
    ("count", "1" + "0" * 15, "must be a number of at most 15 digits"),
    ("count", "-" + "9" * 16, "must be a number of at most 15 digits"),
    ("ratio", "nan", "must be a number, not nan"),
    ("ratio", "inf", "must be a number, not inf"),
    ("ratio", "1e400", "must be a number, not inf"),
    ("ratio", "1e300", "must be a number of at most 15 digits"),
    ("amount", "1e999999", "must be a number of at most 15 digits"),
    ("amount", "0." + "1" * 30, "must be a number of at most 15 digits"),
    ("names", ",".join(f"n{i}" for i in range(5000)), "has 5,000 items; a setting holds at "
                                                        "most 1,000: keep the ones in use"),
    ("emails", ",".join(f"c{i}@example.com" for i in range(1001)), "has 1,001 items"),
    ("token", "sk_live_\x00abc", "U+0000 (a control character) at position 8"),
]
ITEMS = [  # an item of a list: named by its place, counted from one on the settings page
    ("names", "Math, Pi\x00ano", "names[1]", "U+0000"),
    ("names", "Math, " + "p" * 2001, "names[1]", "is 2,001 characters long"),
]


@pytest.fixture
def typed_hub(make_hub: Any) -> Hub:
    hub: Hub = make_hub(("typed", typed_settings), ("drifting", typed_settings.DriftingPlugin()))
    return hub


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    env = {**base_env(tmp_path), "HUB_PLUGINS": PLUGINS}
    command = build_cli()

    def invoke(*args: str) -> Any:
        return CliRunner().invoke(command, list(args), env=env)

    return invoke


def _fresh(tmp_path: Path) -> dict[str, Any]:
    """The typed plugin's settings as a new process reads them from the database."""
    hub = Hub(load_config({**base_env(tmp_path), "HUB_PLUGINS": PLUGINS}, dotenv=False),
              entrypoints=False)
    try:
        value = hub.states.settings("typed")
        assert value is not None
        return dict(value)
    finally:
        hub.close()


@pytest.mark.parametrize(("key", "typed", "message"), REFUSED,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(REFUSED)])
def test_update_settings_refuses_naming_the_field_and_the_fix(
        typed_hub: Hub, key: str, typed: str, message: str) -> None:
    before = typed_hub.states.settings("typed")
    with pytest.raises(SettingsError) as refused:
        typed_hub.states.update_settings("typed", {key: typed})
    [(field, said)] = refused.value.errors
    assert field == key and message in said, said
    assert len(said) < 300  # never the 5,000 characters back
    if key == "token":
        assert "abc" not in said  # a secret is never repeated
    typed_hub.states.invalidate()
    assert typed_hub.states.settings("typed") == before


@pytest.mark.parametrize(("key", "typed", "field", "message"), ITEMS)
def test_a_list_item_is_named_by_its_place(typed_hub: Hub, key: str, typed: str, field: str,
                                           message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        typed_hub.states.update_settings("typed", {key: typed})
    assert [(f, message in m) for f, m in refused.value.errors] == [(field, True)]


def test_hub_plugins_set_refuses_each_with_one_line_and_exit_2(cli: Any,
                                                                tmp_path: Path) -> None:
    for key, typed, message in [*REFUSED, ("label", "\ud800", "U+D800 (half of a UTF-16 pair")]:
        result = cli("plugins", "set", "typed", f"{key}={typed}")
        assert result.exit_code == 2, (key, result.output, result.exception)
        assert result.output.startswith(f"error: typed.{key}: "), result.output
        assert message in result.output and result.output.count("\n") == 1, result.output
    unknown = cli("plugins", "set", "typed", "colour=red", "\x00=1")
    assert unknown.exit_code == 2
    assert "error: typed.colour: typed has no setting 'colour'; its settings are: label," \
        in unknown.output
    assert "error: typed.'\\x00': typed has no setting '\\x00'" in unknown.output
    assert "\x00" not in unknown.output  # nothing raw reaches the terminal
    nobody = cli("plugins", "set", "\x1b[2J", "a=1")
    assert nobody.exit_code == 2 and "\x1b" not in nobody.output
    assert "no plugin named '\\x1b[2J'" in nobody.output
    assert _fresh(tmp_path)["label"] == "front desk"  # nothing refused was stored


def test_a_byte_that_is_not_utf8_on_the_command_line_is_refused_in_one_line(
        tmp_path: Path) -> None:
    """A real shell: ``hub plugins set typed label=$'\\xff'`` reaches Python as a lone
    surrogate (U+DCFF), which could not be written as JSON: it was a traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "hub", "plugins", "set", "typed", b"label=caf\xff"],
        env=subprocess_env(tmp_path, HUB_PLUGINS=PLUGINS), capture_output=True, cwd=ROOT,
        timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.decode() == (
        "error: typed.label: must be text on one line, without control characters; it holds "
        "U+DCFF (half of a UTF-16 pair, alone) at position 3: remove it\n")


def test_what_is_stored_reads_back_as_saved(typed_hub: Hub, cli: Any, tmp_path: Path) -> None:
    """Values at the edge of every bound are kept, and a new process reads them as saved."""
    edge = {"label": "ü" * 2000, "note": "Dear {name},\n\tthank you.\r\n" * 100,
            "count": "-999999999999999", "ratio": "1e-300", "amount": "0.00000000000001",
            "names": ", ".join(f"n{i}" for i in range(1000)), "emails": "A@Example.com",
            "token": "sk_" + "x" * 1990}
    assert cli("plugins", "set", "typed",
               *(f"{k}={v}" for k, v in edge.items())).exit_code == 0
    back = _fresh(tmp_path)
    assert back["label"] == edge["label"] and back["note"] == edge["note"]
    assert back["count"] == -999999999999999 and back["ratio"] == 1e-300
    assert back["amount"] == Decimal("0.00000000000001") and len(back["names"]) == 1000
    assert back["token"].get_secret_value() == edge["token"]


def test_a_setting_that_would_not_read_back_is_refused(typed_hub: Hub) -> None:
    """A plugin's validator that changes its output again on each read ("Thanks." read back
    as "Thanks.."): what would be stored is read back first, and refused."""
    with pytest.raises(SettingsError) as refused:
        typed_hub.states.update_settings("drifting", {"sign_off": "Thanks"})
    assert refused.value.errors == [
        ("sign_off", "would not read back as given once stored: give it another way")]
    assert typed_hub.states.settings("drifting").sign_off == "Thanks."  # type: ignore[union-attr]


def _store_raw(hub: Hub, name: str, stored: dict[str, Any]) -> None:
    """What an older plugin version's rules let through, written straight into the table."""
    table = PluginState.__table__  # type: ignore[attr-defined]
    hub.states.set_enabled(name, True)
    with hub.engine.begin() as conn:
        conn.execute(update(table).where(table.c.name == name)
                     .values(settings=json.dumps(stored)))
    hub.states.invalidate()


def test_stored_settings_a_plugin_now_refuses_can_be_set_right(typed_hub: Hub,
                                                               tmp_path: Path,
                                                               cli: Any) -> None:
    _store_raw(typed_hub, "typed", {"label": "ok", "ratio": None, "count": "many"})
    # Setting something else says what is wrong with what is stored, and how to fix it (it
    # was a pydantic ValidationError escaping: a traceback, a 500 on the settings page).
    with pytest.raises(SettingsError) as refused:
        typed_hub.states.update_settings("typed", {"label": "front desk"})
    assert sorted(refused.value.errors) == [
        ("count", "the stored value is refused now: Input should be a valid integer, unable to "
                  "parse string as an integer; set count again"),
        ("ratio", "the stored value is refused now: Input should be a valid number; set ratio "
                  "again")]
    shown = cli("plugins", "show", "typed")
    assert shown.exit_code == 1 and isinstance(shown.exception, SystemExit)  # no traceback
    assert "error: typed.ratio: the stored value is refused now: Input should be a valid " \
        "number; set it again with `hub plugins set typed ratio=...`" in shown.output
    fixed = cli("plugins", "set", "typed", "ratio=2.5", "count=4")
    assert fixed.exit_code == 0, fixed.output
    assert _fresh(tmp_path)["label"] == "ok" and _fresh(tmp_path)["ratio"] == 2.5


# -- the settings form ---------------------------------------------------------------------

@pytest.fixture
def form(typed_hub: Hub) -> Any:
    auth.set_first_password(typed_hub, PASSWORD)
    client = create_app(typed_hub).test_client()
    token = client_sign_in(client)

    def post(**fields: str) -> Any:
        current = {"label": "front desk", "note": "", "count": "3", "ratio": "1.5",
                   "amount": "2.50", "names": "", "emails": ""}
        return client.post("/integrations/typed/settings",
                           data={"csrf_token": token, **current, **fields})

    post.client = client  # type: ignore[attr-defined]
    return post


@pytest.mark.parametrize(("key", "typed", "message"), REFUSED,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(REFUSED)])
def test_the_settings_form_shows_each_refusal_beside_its_field(
        form: Any, typed_hub: Hub, key: str, typed: str, message: str) -> None:
    before = typed_hub.states.settings("typed")
    answer = form(**{key: typed})
    assert answer.status_code == 422, answer.text[:500]
    page = answer.text
    beside = page.split(f'id="typed-{key}-error">', 1)[1].split("</p>", 1)[0]
    assert message.replace("'", "&#39;") in beside, beside
    assert "some settings were not saved" in page
    typed_hub.states.invalidate()
    assert typed_hub.states.settings("typed") == before


def test_the_settings_form_names_a_list_item_from_one(form: Any) -> None:
    answer = form(names="Math, Pi\x00ano")
    assert answer.status_code == 422
    assert "U+0000 (a control character) at position 2: remove it (item 2)" in answer.text


def test_the_settings_form_refuses_very_long_values_with_a_4xx(form: Any) -> None:
    answer = form(note="x" * 600_000)
    assert answer.status_code == 422
    assert "is 600,000 characters long; at most 5,000: shorten it" in answer.text
    assert form(note="x" * 1_100_000).status_code == 413  # past the app's limit for any body


def test_the_settings_form_over_stored_settings_now_refused_saves_them_right(
        form: Any, typed_hub: Hub) -> None:
    """It was a 500: the stored settings were validated first, and the error escaped."""
    _store_raw(typed_hub, "typed", {"ratio": None})
    assert form.client.get("/integrations").status_code == 200  # the page still draws
    answer = form(label="reception")  # the browser sends every field, as the page shows them
    assert answer.status_code == 302, answer.text[:500]
    saved = typed_hub.states.settings("typed")
    assert saved is not None and (saved.label, saved.ratio) == ("reception", 1.5)


TEXT = st.text(st.characters(codec=None), max_size=60) | st.sampled_from(
    ["nan", "-inf", "1e308", "9" * 41, "0", "-0", "1_000", " 12 ", "٣", "1e-400", "0x1f"])


def test_whatever_is_accepted_reads_back_as_saved(typed_hub: Hub) -> None:
    """Any text in any setting: refused with a SettingsError naming a field, or stored, and then
    read back from the database as the value the save returned."""

    @settings(max_examples=400, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.sampled_from(["label", "note", "count", "ratio", "amount", "names", "emails",
                            "token"]), TEXT)
    def check(key: str, typed: str) -> None:
        try:
            saved = typed_hub.states.update_settings("typed", {key: typed})
        except SettingsError as exc:
            assert exc.errors and all(field.startswith(key) for field, _ in exc.errors)
            return
        typed_hub.states.invalidate()
        assert typed_hub.states.settings("typed") == saved

    check()


def test_settings_at_every_bound_read_back_alike_on_each_database(
        tmp_path: Path, database_url: str) -> None:
    """The same values, read back by a new process, on SQLite and on PostgreSQL (which keeps
    no NUL in text: none gets that far)."""
    env = {**base_env(tmp_path, database_url), "HUB_PLUGINS": PLUGINS}
    edge = {"label": "Zoë’s 東京 desk " + "ü" * 1980, "note": "Dear {name},\n\tthanks\r\n",
            "count": "999999999999999", "ratio": "-1.5e-300", "amount": "123456789012.345",
            "names": "Math, Piano, Élan", "token": "sk_" + "x" * 1990}
    writer = Hub(load_config(env, dotenv=False), entrypoints=False)
    try:
        saved = writer.states.update_settings("typed", edge)
        with pytest.raises(SettingsError):
            writer.states.update_settings("typed", {"label": "nul\x00"})
    finally:
        writer.close()
    reader = Hub(load_config(env, dotenv=False), entrypoints=False)
    try:
        assert reader.states.settings("typed") == saved
    finally:
        reader.close()
