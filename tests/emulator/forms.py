"""Read an HTML form the way a browser would: its action, inputs and buttons."""

from __future__ import annotations

from html.parser import HTMLParser


class FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}
        self.buttons: dict[str, tuple[str, str]] = {}  # visible text -> (name, value)
        self._button: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = attr.get("action", "")
        elif tag == "input" and attr.get("type") == "radio":
            self.radios.setdefault(attr["name"], []).append(attr["value"])
            if "checked" in attr:
                self.fields[attr["name"]] = attr["value"]
        elif tag == "input":
            self.fields[attr["name"]] = attr.get("value", "")
        elif tag == "button":
            self._button = (attr.get("name", ""), attr.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._button is not None and data.strip():
            self.buttons[data.strip()] = self._button
            self._button = None


def read_form(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader
