"""Each caller of the OpenAPI document is handed one of its own: changing it changes nothing
for the next caller, nor for another hub's app serving it."""

from __future__ import annotations

from typing import Any

from hub.web.app import create_app
from hub.web.openapi import openapi_document


def test_changing_one_answer_leaves_the_next_as_it_was() -> None:
    first = openapi_document()
    pristine = openapi_document()
    first["info"]["title"] = "changed"
    first["paths"].clear()
    first["components"]["schemas"]["Error"]["required"].append("more")
    again = openapi_document()
    assert again == pristine and again["info"]["title"] == "Ledgerline Hub host API"
    assert again["paths"] and again["components"]["schemas"]["Error"]["required"] == ["errors"]


def test_each_app_serves_the_document_unchanged(make_hub: Any) -> None:
    openapi_document()["info"]["title"] = "changed"
    hub = make_hub()
    served = create_app(hub).test_client().get(
        "/api/v1/openapi.json", headers={"Authorization": f"Bearer {hub.config.api_key}"})
    assert served.status_code == 200 and served.json == openapi_document()
    assert served.json["info"]["title"] == "Ledgerline Hub host API"
