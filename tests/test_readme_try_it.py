"""The README's "Try it", tried as a newcomer would: `make run`'s script on a fresh folder, then
the README's own curl lines (parsed from the README, sent as curl would send them), and every
answer the README promises. Seen: the demo never connected the hub to the emulator, and the
README's invoice came back "QuickBooks is not connected"."""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
import requests
from playwright.sync_api import expect
from pydantic import BaseModel

from hub.events import (
    EVENT_TYPES,
    Address,
    BookingCheck,
    Contact,
    EventIn,
    Line,
    Verdict,
    parse_data,
    verdict_view,
)
from tests.conftest import ROOT, Lines, free_port, running, subprocess_env, wait_for
from tests.ui.conftest import PASSWORD, shot

README = ROOT / "README.md"


@dataclass
class Curl:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None


def try_it_section() -> str:
    return README.read_text().split("## Try it", 1)[1].split("\n## ", 1)[0]


def try_it_commands() -> list[Curl]:
    """The curl commands of the README's "Try it" block, continuation lines joined."""
    block = try_it_section().split("```sh\n", 1)[1].split("```", 1)[0]
    # A body may run over lines inside its quotes: split the whole block, then at each curl.
    tokens = shlex.split(block.replace("\\\n", " "))
    starts = [i for i, token in enumerate(tokens) if token == "curl"]
    found = []
    for start, end in zip(starts, [*starts[1:], len(tokens)], strict=True):
        words = tokens[start:end]
        method, url, headers, body = "GET", "", {}, None
        i = 1
        while i < len(words):
            word = words[i]
            if word == "-X":
                method, i = words[i + 1], i + 1
            elif word == "-H":
                name, _, value = words[i + 1].partition(":")
                headers[name.strip()] = value.strip()
                i += 1
            elif word == "-d":
                body, i = words[i + 1], i + 1
                method = "POST" if method == "GET" else method
            elif not word.startswith("-"):
                url = word
            i += 1
        found.append(Curl(method, url, headers, body))
    return found


@dataclass
class Demo:
    folder: Path
    hub: str
    emulator: str
    output: Lines

    def send(self, curl: Curl, body: str | None = None) -> requests.Response:
        key = (self.folder / ".hub" / "api-key").read_text().strip()  # KEY=$(cat .hub/api-key)
        url = curl.url.replace("http://127.0.0.1:8000", self.hub)
        headers = {k: v.replace("$KEY", key) for k, v in curl.headers.items()}
        data = body if body is not None else curl.body
        return requests.request(curl.method, url, headers=headers, timeout=10,
                                data=data.encode() if data is not None else None)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    hub_port, emulator_port = free_port(), free_port()
    env = subprocess_env(tmp_path, HUB_PORT=str(hub_port), HUB_EMULATOR_PORT=str(emulator_port))
    for name in ("HUB_API_KEY", "HUB_SECRET_KEY", "HUB_DATABASE_URL"):
        env.pop(name, None)  # the embedded defaults, as on a fresh machine
    script = [sys.executable, str(ROOT / "scripts" / "run_local.py")]
    with running(script, env, cwd=tmp_path) as (_process, output):
        output.wait_for("Ctrl-C stops the hub.", timeout=60)  # the last line of what it says once
        yield Demo(tmp_path, f"http://127.0.0.1:{hub_port}",
                   f"http://127.0.0.1:{emulator_port}", output)


def delivered(demo: Demo, status_curl: Curl) -> dict[str, Any]:
    """The event's state once its QuickBooks delivery has finished ("a moment later")."""
    def finished() -> bool:
        view = demo.send(status_curl).json()
        return all(d["status"] not in ("pending", "running") for d in view["deliveries"]
                   if d["plugin"] == "quickbooks")

    wait_for(finished, "the QuickBooks delivery of the README's invoice")
    return dict(demo.send(status_curl).json())


@pytest.mark.slow
def test_the_readmes_try_it_does_what_the_readme_says(demo: Demo, browser: Any) -> None:
    send_invoice, read_status = try_it_commands()
    assert send_invoice.method == "POST" and read_status.method == "GET"

    # make run said, once, what comes next.
    said = "\n".join(demo.output.seen)
    assert said.count("Ledgerline Hub is running.") == 1
    assert re.search(r"Settings UI +http://127\.0\.0\.1:\d+/setup\?code=\S+", said), said
    assert "in .hub/api-key" in said
    assert f"{demo.emulator}/_emulator/books" in said
    assert re.search(r"^  QuickBooks +connected: ", said, flags=re.M), said  # the word once

    first = demo.send(send_invoice)
    assert first.status_code == 202, first.text
    plugins = {d["plugin"]: d["status"] for d in first.json()["deliveries"]}
    assert plugins and set(plugins.values()) == {"pending"}

    view = delivered(demo, read_status)
    [qbo] = [d for d in view["deliveries"] if d["plugin"] == "quickbooks"]
    assert qbo["status"] == "done", qbo
    assert re.fullmatch(r"Customer \d+ created; Invoice \d+ \(#2041\) created", qbo["result"]), \
        qbo["result"]

    # The same body again: 200, nothing twice; the same id with another body: 409.
    again = demo.send(send_invoice)
    assert again.status_code == 200 and again.json()["id"] == "evt_7f3a"
    other = json.loads(send_invoice.body or "{}")
    other["data"]["number"] = "1002"
    assert demo.send(send_invoice, json.dumps(other)).status_code == 409
    # A mistake is a 422 naming the field, in the README's words.
    mistake = json.loads(send_invoice.body or "{}")
    mistake["id"] = "evt_mistake"
    mistake["data"]["lines"][0]["unit_price"] = 65.00
    answer = demo.send(send_invoice, json.dumps(mistake))
    assert answer.status_code == 422
    assert answer.json() == {"errors": [{
        "field": "data.lines[0].unit_price",
        "message": 'must be a decimal string such as "65.00", not a JSON number'}]}

    # What the README points at next: the emulator's books and Activity, as a person sees them.
    books = requests.get(f"{demo.emulator}/_emulator/books.json", timeout=10).json()
    # The demo company has invoices #1001 to #1003 of its own; the hub's carries its marker.
    [written] = [i for i in books["invoices"] if i.get("marker") == "ledgerline:inv-2041"]
    assert written["number"] == "2041", written
    link = re.search(r"Settings UI +(\S+)", said)
    assert link
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(link.group(1))  # the printed one-time link: choose the operator password
        page.fill("#password", PASSWORD)
        page.fill("#confirm", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{demo.hub}/activity")
        row = page.locator("article", has_text="evt_7f3a")
        expect(row).to_contain_text(re.compile(r"\bdone\b", re.IGNORECASE))
        shot(page, "try-it-activity")
        page.goto(f"{demo.emulator}/_emulator/books")
        expect(page.locator("tr", has_text="ledgerline:inv-2041")).to_contain_text("2041")
        shot(page, "try-it-books")
    finally:
        context.close()


# -- what "Try it" says of each event type's data, held to the models in hub/events/ ------------

def _names(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def _items(text: str) -> list[tuple[str, str]]:
    """Each name and note of a list written "`a` (note), `b`, `c` (note)": the name and what
    its parentheses say, split at the commas outside parentheses."""
    items, depth, current = [], 0, ""
    for char in text + ",":
        depth += (char == "(") - (char == ")")
        if depth == 0 and char == ",":
            if _names(current):
                head, _, note = current.partition("(")
                items.append((_names(head)[0], note.rpartition(")")[0]))
            current = ""
        else:
            current += char
    return items


def _required(model: type[BaseModel]) -> set[str]:
    return {name for name, field in model.model_fields.items() if field.is_required()}


def _choices(annotation: Any) -> set[str]:
    """The values a Literal field (or an optional one) takes; empty for any other field."""
    if get_origin(annotation) is Literal:
        return {str(value) for value in get_args(annotation)}
    return set().union(*(_choices(arg) for arg in get_args(annotation)))


def test_the_readmes_event_data_names_the_models_fields() -> None:
    section = try_it_section()
    contact = section.split("A `contact` event's `data` is the contact itself:", 1)[1]
    contact = contact.split("any other field is refused", 1)[0]
    # "`external_id` (...) and `name` (...) are required; `email`, ... and `address` (...)"
    required, given = contact.replace(" and ", ", ").split("are required;")
    assert {name for name, _ in _items(required)} == _required(Contact)
    optional = dict(_items(given))
    assert set(optional) == set(Contact.model_fields) - _required(Contact)
    assert set(_names(optional["address"])) == set(Address.model_fields)

    table = section.split("<!-- event-data:", 1)[1].split("\n\n", 2)[1]
    documented = {"contact"}
    for row in table.splitlines()[2:]:
        types, required_cell, optional_cell = (cell.strip() for cell in row.strip("|").split("|"))
        models = {EVENT_TYPES[t][1] for t in _names(types)}
        assert len(models) == 1, f"{types}: one row, one model"
        [model] = models
        documented |= set(_names(types))
        required_items, optional_items = dict(_items(required_cell)), dict(_items(optional_cell))
        assert set(required_items) == _required(model), f"{types}: required fields"
        assert set(optional_items) == set(model.model_fields) - _required(model), \
            f"{types}: optional fields"
        for name, note in {**required_items, **optional_items}.items():
            field = model.model_fields[name]
            if _choices(field.annotation):  # every value named, and the default said
                assert set(_names(note)) == _choices(field.annotation), f"{types}: {name}"
                if field.default is not None:
                    assert f"`{field.default}`, the default" in note, f"{types}: {name}"
        if "lines" in required_items:  # the invoice's: Line's own fields
            must, _, may = required_items["lines"].partition(";")
            assert set(_names(must)) == _required(Line)
            assert set(_names(may)) == set(Line.model_fields) - _required(Line)
    assert documented == set(EVENT_TYPES)

    # The booking check's body and answer.
    body = re.search(r'its body is\s+`\{"(\w+)": [^`]*\}`, with an optional `(\w+)`', section)
    assert body is not None, "the booking check's body is no longer described"
    assert {body.group(1)} == _required(BookingCheck)
    assert set(BookingCheck.model_fields) == {body.group(1), body.group(2)}
    answer = re.search(r"it answers `\{([^}`]*)\}`", section)
    assert answer is not None
    assert re.findall(r'"(\w+)"', answer.group(1)) == list(verdict_view(Verdict(allowed=True)))

    # The contact example is an event the hub accepts.
    example = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    envelope = EventIn.model_validate(example)
    assert parse_data(envelope.type, envelope.data) == Contact.model_validate(example["data"])
