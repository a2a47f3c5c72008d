"""``hub plugins new NAME``: a plugin package ready to ``pip install -e`` and test.

What it writes: ``pyproject.toml`` declaring the ``hub.plugins`` entry point, the package
(a settings model whose fields have defaults and descriptions, and one hook: ``on_invoice_paid``
posting each fully paid invoice to the webhook URL of its settings), a README, and tests on a
real hub through ``hub.testing``'s fixtures, which pass as written.
"""

from __future__ import annotations

import keyword
import re
from importlib.metadata import entry_points
from pathlib import Path

from hub.plugins.registry import DEFAULT_PLUGINS, ENTRY_POINT_GROUP

NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class ScaffoldError(Exception):
    """The name or the place is refused; the message says why and what to do."""


def names(name: str) -> dict[str, str]:
    """The plugin's name, its distribution's and its import package's."""
    return {"name": name, "dist": "ledgerline-hub-" + name.replace("_", "-"),
            "package": f"ledgerline_hub_{name}", "title": name.replace("_", " ").capitalize()}


def check_name(name: str) -> None:
    if not NAME.fullmatch(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"{name!r} is not a plugin name: write a lowercase Python identifier of at most 40 "
            "characters, starting with a letter (letters, digits, underscores), e.g. "
            "paid_webhook")
    taken = {dotted.rsplit(".", 1)[-1] for dotted in DEFAULT_PLUGINS}
    taken |= {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name in taken:
        raise ScaffoldError(f"a plugin named {name!r} is already installed; the hub refuses "
                            "two plugins of one name: choose another")


def scaffold(name: str, directory: Path) -> list[Path]:
    """Write the package for plugin ``name`` into ``directory`` (which must not exist);
    returns the files written."""
    check_name(name)
    if directory.exists():
        raise ScaffoldError(f"{directory} already exists: give a new directory with --dir, or "
                            "remove that one first (nothing was written)")
    n = names(name)
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        f"{n['package']}/__init__.py": PACKAGE,
        f"tests/test_{name}.py": TESTS,
    }
    written = []
    for relative, template in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**n).lstrip("\n"), encoding="utf-8")
        written.append(path)
    return written


PYPROJECT = '''
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "A Ledgerline Hub plugin: posts each fully paid invoice to a webhook."
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["ledgerline-hub>=0.1", "requests>=2.31"]

[project.optional-dependencies]
# hub.testing's fixtures (plugin_hub, deliver, http_sink...) need these beside the hub.
test = ["pytest>=8", "freezegun>=1.5", "aiosmtpd>=1.4"]

# How the hub finds the plugin once installed: `hub plugins list` shows it.
[project.entry-points."hub.plugins"]
{name} = "{package}"

[tool.setuptools]
packages = ["{package}"]

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "-ra"

[tool.ruff]
line-length = 100
target-version = "py311"

[tool.ruff.lint]
select = ["E", "F", "W", "I", "B", "UP"]
'''

PACKAGE = '''
"""{title}: posts each fully paid invoice to a webhook."""

from __future__ import annotations

import requests
from hub import Context, hookimpl
from hub.errors import RetryLater, Skip
from hub.events import Invoice
from pydantic import BaseModel, ConfigDict, Field

__version__ = "0.1.0"
# The hubs this plugin works with, and the plugins it needs switched on (docs/plugins.md).
HUB_REQUIRES = ">=0.1,<1"
NEEDS: tuple[str, ...] = ()


class Settings(BaseModel):
    """What the operator sets: `hub plugins set {name} webhook_url=https://...`."""

    model_config = ConfigDict(extra="forbid")
    webhook_url: str = Field(default="",
                             description="where each fully paid invoice is posted; empty: nowhere")
    timeout_seconds: float = Field(default=10.0, gt=0, le=60,
                                   description="how long to wait for the webhook to answer")


@hookimpl
def settings_model() -> type[BaseModel]:
    return Settings


@hookimpl
def on_invoice_paid(invoice: Invoice, ctx: Context) -> None:
    """An invoice was paid: post it once nothing is owed on it. A raise is retried."""
    settings = ctx.settings if isinstance(ctx.settings, Settings) else Settings()
    if invoice.balance != 0:
        ctx.note(f"invoice {{invoice.external_id}}: {{invoice.balance}} still owed, not posted")
        return
    if not settings.webhook_url:
        raise Skip("webhook_url is not set, so nothing is posted")
    body = {{"invoice": invoice.external_id, "number": invoice.number,
            "total": str(invoice.computed_total), "paid": str(invoice.paid),
            "currency": invoice.currency}}
    # The same write gets the same key at every retry: the receiver can drop a repeat.
    key = ctx.write_key(f"{{settings.webhook_url}} invoice {{invoice.external_id}}", body)
    try:
        answer = requests.post(settings.webhook_url, json=body, timeout=settings.timeout_seconds,
                               headers={{"Idempotency-Key": key}})
    except requests.RequestException as exc:
        raise RetryLater(f"the webhook did not answer: {{exc.__class__.__name__}}") from None
    if not 200 <= answer.status_code < 300:
        raise RetryLater(f"the webhook answered {{answer.status_code}}")
    ctx.note(f"invoice {{invoice.external_id}} posted")
'''

TESTS = '''
"""{name} on a real hub, through hub.testing's fixtures: plugin_hub, deliver, http_sink."""

from __future__ import annotations

from typing import Any

from hub.testing import HttpSink, sample_event

import {package}

NAME = "{name}"


def test_the_hub_finds_it_as_installed(plugin_hub: Any) -> None:
    # By its hub.plugins entry point (pip install -e .), or as HUB_PLUGINS names it.
    hub = plugin_hub(NAME)
    assert hub.infos[NAME].module is {package}
    assert all(f.description for f in {package}.Settings.model_fields.values())


def test_a_fully_paid_invoice_is_posted(plugin_hub: Any, deliver: Any,
                                        http_sink: HttpSink) -> None:
    plugin_hub((NAME, {package}), settings={{"webhook_url": http_sink.url + "/paid"}})
    result = deliver(sample_event("invoice.paid", "evt_1"))
    assert result.status(NAME) == "done"
    [posted] = http_sink.requests
    assert posted.path == "/paid"
    assert posted.json()["invoice"] == "inv-1" and posted.json()["paid"] == "189.98"


def test_a_part_paid_invoice_is_not_posted(plugin_hub: Any, deliver: Any,
                                           http_sink: HttpSink) -> None:
    plugin_hub((NAME, {package}), settings={{"webhook_url": http_sink.url}})
    result = deliver(sample_event("invoice.paid", "evt_2", amount_paid="50.00"))
    assert result.status(NAME) == "done" and http_sink.requests == []


def test_a_failing_webhook_is_asked_again_with_the_same_key(plugin_hub: Any, deliver: Any,
                                                            http_sink: HttpSink) -> None:
    http_sink.answer_with(503, 503, 200)
    plugin_hub((NAME, {package}), settings={{"webhook_url": http_sink.url}})
    result = deliver(sample_event("invoice.paid", "evt_3"))
    assert result.status(NAME) == "done" and result.deliveries[NAME]["attempts"] == 3
    assert len({{r.headers["idempotency-key"] for r in http_sink.requests}}) == 1


def test_without_a_url_nothing_is_posted(plugin_hub: Any, deliver: Any) -> None:
    plugin_hub((NAME, {package}))
    assert deliver(sample_event("invoice.paid", "evt_4")).status(NAME) == "skipped"
'''

README = '''
# {dist}

A [Ledgerline Hub](https://github.com/) plugin, `{name}`: when an invoice is paid in full it
posts the invoice (`invoice`, `number`, `total`, `paid`, `currency`) as JSON to the
`webhook_url` of its settings, with an `Idempotency-Key` header that is the same at every retry.
An answer other than 2xx, or none, is retried with the hub's backoff.

## Install

    pip install -e .
    hub plugins list                      # {name} is there, enabled
    hub plugins set {name} webhook_url=https://example.com/paid
    hub plugins show {name}

## Settings

| setting | default | what it is |
|---|---|---|
| `webhook_url` | empty (nothing is posted) | where each fully paid invoice is posted |
| `timeout_seconds` | `10` | how long to wait for the webhook to answer |

## Test

    pip install -e '.[test]'
    pytest

The tests run the plugin in a real hub on a temporary SQLite database, through the fixtures of
`hub.testing` (loaded by pytest on its own once the hub is installed): `plugin_hub`, `deliver`
(an event through the host API, its retries run on a frozen clock), `http_sink`.
'''
