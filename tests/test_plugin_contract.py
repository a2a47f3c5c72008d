"""The versioned contract (issue 17): a plugin states the hubs it works with (``HUB_REQUIRES``)
and the plugins it needs (``NEEDS``); the hub refuses to switch on one it cannot run, saying why,
on the command line and on the settings page."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import hub as hub_package
from hub import __version__, hookimpl
from hub.hub import Hub
from hub.plugins.registry import version_refusal
from hub.plugins.states import Refused
from hub.roles.cli import build_cli
from hub.ui import auth
from hub.web.app import create_app
from tests.conftest import base_env
from tests.ui.conftest import PASSWORD, client_sign_in


def plugin(name: str, **attributes: Any) -> types.ModuleType:
    """A plugin module with one hook and the module attributes given."""
    module = types.ModuleType(name, f"The {name} test plugin.")

    @hookimpl
    def on_contact(contact: Any, ctx: Any) -> None:
        return None

    module.on_contact = on_contact  # type: ignore[attr-defined]
    for key, value in attributes.items():
        setattr(module, key, value)
    return module


def modules() -> dict[str, types.ModuleType]:
    return {
        "future": plugin("future", HUB_REQUIRES=">=9.0"),
        "needy": plugin("needy", NEEDS=("absent",)),
        "base": plugin("base", ENABLED_BY_DEFAULT=False),
        "follower": plugin("follower", NEEDS=("base",), ENABLED_BY_DEFAULT=False),
        "fits": plugin("fits", HUB_REQUIRES=">=0.1,<1", NEEDS=()),
    }


def test_the_contract_has_a_version() -> None:
    assert isinstance(hub_package.HOOKS_VERSION, str)
    assert hub_package.HOOKS_VERSION.count(".") == 1


def test_versions_are_read_as_specifiers() -> None:
    assert version_refusal("p", None) is None
    assert version_refusal("p", ">=0.1,<1", "0.1.0") is None
    reason = version_refusal("p", ">=0.2", "0.1.0")
    assert reason and "works with hub >=0.2" in reason and "0.1.0" in reason
    assert "not a version specifier" in (version_refusal("p", "soon", "0.1.0") or "")
    assert "not a version specifier string" in (version_refusal("p", 1, "0.1.0") or "")


def test_the_plain_comparisons_hold_without_packaging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "packaging.specifiers", None)
    assert version_refusal("p", ">=0.1,<1", "0.1.0") is None
    assert version_refusal("p", ">=0.1, <0.1.1", "0.1.0") is None
    assert "works with hub <0.1" in (version_refusal("p", "<0.1", "0.1.0") or "")
    assert "needs the packaging library" in (version_refusal("p", "~=0.1", "0.1.0") or "")


def test_discovery_records_why_and_the_plugin_stays_off(make_hub: Any) -> None:
    hub: Hub = make_hub(*modules().items())
    assert "works with hub >=9.0" in (hub.infos["future"].refused or "")
    assert "needs the absent plugin, which is not installed" in (hub.infos["needy"].refused
                                                                  or "")
    assert hub.infos["fits"].refused is None and hub.infos["fits"].hub_requires == ">=0.1,<1"
    # On by default, but refused: it runs nowhere.
    assert not hub.states.enabled("future") and not hub.states.enabled("needy")
    assert hub.enabled_for("on_contact") == ["fits"]
    with pytest.raises(Refused, match="future cannot be enabled: it works with hub >=9.0"):
        hub.states.set_enabled("future", True)
    hub.states.set_enabled("future", False)  # switching off is never refused


def test_a_need_switched_off_refuses_and_stops_its_follower(make_hub: Any) -> None:
    hub: Hub = make_hub(*modules().items())
    with pytest.raises(Refused, match="it needs base, which is turned off: enable base first"):
        hub.states.set_enabled("follower", True)
    hub.states.set_enabled("base", True)
    hub.states.set_enabled("follower", True)
    assert hub.states.enabled("follower") and hub.states.refusal("follower") is None
    hub.states.set_enabled("base", False)
    assert not hub.states.enabled("follower")
    assert "needs base" in (hub.states.refusal("follower") or "")


def test_a_plugin_needing_a_refused_one_is_refused(make_hub: Any) -> None:
    hub: Hub = make_hub(("future", plugin("future", HUB_REQUIRES=">=9.0")),
                        ("after", plugin("after", NEEDS=("future",))))
    assert "needs the future plugin, which the hub refused" in (hub.infos["after"].refused
                                                                 or "")


def test_a_malformed_declaration_is_refused_saying_so(make_hub: Any) -> None:
    hub: Hub = make_hub(("loose", plugin("loose", NEEDS="quickbooks")))
    assert "not a tuple of plugin names" in (hub.infos["loose"].refused or "")


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, module in modules().items():
        monkeypatch.setitem(sys.modules, f"contract_{name}", module)
    env = {**base_env(tmp_path),
           "HUB_PLUGINS": ",".join(f"{name}=contract_{name}" for name in modules())}
    cli = build_cli()

    def invoke(*args: str) -> Any:
        return CliRunner().invoke(cli, list(args), env=env)

    return invoke


def test_the_command_line_refuses_and_says_why(run: Any) -> None:
    listed = run("plugins", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    future = next(i for i, line in enumerate(lines) if line.startswith("future "))
    assert "refused" in lines[future]
    assert "cannot be enabled: it works with hub >=9.0, and this hub is " + __version__ \
        in lines[future + 1]
    needy = next(i for i, line in enumerate(lines) if line.startswith("needy "))
    assert "needs the absent plugin, which is not installed" in lines[needy + 1]

    refused = run("plugins", "enable", "future")
    assert refused.exit_code == 1
    assert "future cannot be enabled: it works with hub >=9.0" in refused.output
    missing = run("plugins", "enable", "needy")
    assert missing.exit_code == 1 and "needs the absent plugin" in missing.output
    off = run("plugins", "enable", "follower")
    assert off.exit_code == 1 and "it needs base, which is turned off" in off.output
    assert run("plugins", "enable", "base").exit_code == 0
    assert run("plugins", "enable", "follower").output.strip() == "follower enabled"
    assert run("plugins", "enable", "fits").exit_code == 0


def test_the_settings_page_shows_the_reason_and_refuses_the_switch(make_hub: Any) -> None:
    hub: Hub = make_hub(*modules().items())
    auth.set_first_password(hub, PASSWORD)
    client = create_app(hub).test_client()
    token = client_sign_in(client)
    page = client.get("/integrations").text
    assert 'data-refused="future"' in page
    assert "works with hub &gt;=9.0" in page
    assert "needs the absent plugin, which is not installed" in page
    assert "it needs base, which is turned off" in page
    assert 'data-refused="fits"' not in page

    answer = client.post("/integrations/future/enabled",
                         data={"csrf_token": token, "enabled": "on"})
    assert answer.status_code == 409
    assert "Future was not turned on: it works with hub &gt;=9.0" in answer.text
    assert not hub.states.enabled("future")

    answer = client.post("/integrations/follower/enabled",
                         data={"csrf_token": token, "enabled": "on"})
    assert answer.status_code == 409 and "it needs base, which is turned off" in answer.text
    assert client.post("/integrations/base/enabled",
                       data={"csrf_token": token, "enabled": "on"}).status_code == 302
    assert client.post("/integrations/follower/enabled",
                       data={"csrf_token": token, "enabled": "on"}).status_code == 302
    assert hub.states.enabled("follower")


def test_a_plugin_waiting_for_its_need_can_still_be_switched_off(make_hub: Any) -> None:
    # Switched on, then its need turned off: it stops, and the operator must be able to turn it
    # off too, or it would start unbidden the day its need is turned on again.
    hub: Hub = make_hub(*modules().items())
    hub.states.set_enabled("base", True)
    hub.states.set_enabled("follower", True)
    hub.states.set_enabled("base", False)
    auth.set_first_password(hub, PASSWORD)
    client = create_app(hub).test_client()
    token = client_sign_in(client)
    page = client.get("/integrations").text
    card = page[page.index('id="plugin-follower"'):page.index('id="plugin-future"')]
    assert "Switched on but not running:" in card and "it needs base, which is turned off" in card
    assert "disabled" not in card[:card.index("</form>")]
    assert 'name="enabled" value="off"' in card

    answer = client.post("/integrations/follower/enabled",
                         data={"csrf_token": token, "enabled": "off"})
    assert answer.status_code == 302
    hub.states.set_enabled("base", True)
    assert not hub.states.enabled("follower")
    card = client.get("/integrations").text
    card = card[card.index('id="plugin-follower"'):card.index('id="plugin-future"')]
    assert "Switched on but not running" not in card and ">Off<" in card


def test_the_command_line_shows_a_waiting_plugin_and_switches_it_off(run: Any) -> None:
    assert run("plugins", "enable", "base").exit_code == 0
    assert run("plugins", "enable", "follower").exit_code == 0
    assert run("plugins", "disable", "base").exit_code == 0
    lines = run("plugins", "list").output.splitlines()
    follower = next(i for i, line in enumerate(lines) if line.startswith("follower "))
    assert "waiting" in lines[follower]
    assert "switched on but not running: it needs base, which is turned off" \
        in lines[follower + 1]
    assert run("plugins", "disable", "follower").output.strip() == "follower disabled"
    assert run("plugins", "enable", "base").exit_code == 0
    lines = run("plugins", "list").output.splitlines()
    assert "disabled" in next(line for line in lines if line.startswith("follower "))
