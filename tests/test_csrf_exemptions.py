"""A CSRF exemption belongs to the view or blueprint it exempts: it counts in an app that
registers that object and in no other, and nothing of it is kept in the process, so two hubs'
apps share none and making apps again and again accumulates none."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint

import hub.builtin.quickbooks as quickbooks
from hub import hookimpl
from hub.ui import csrf, csrf_exempt
from hub.web.app import create_app


class Signed:
    """A plugin whose routes prove their sender another way (a signature, say): it exempts one
    view, and a whole blueprint, as it registers them."""

    @hookimpl
    def register_blueprints(self, register: Any) -> None:
        views = Blueprint("hooked", __name__)

        @views.post("/hooked/do")
        @csrf_exempt
        def do() -> str:
            return "done"

        register(views)
        register(csrf_exempt(_blueprint("whole")))


class Unsigned:
    """Another plugin, with routes of the same names (the same view, module and blueprint
    names), exempting nothing: every post of it needs the token."""

    @hookimpl
    def register_blueprints(self, register: Any) -> None:
        views = Blueprint("hooked", __name__)

        @views.post("/hooked/do")
        def do() -> str:
            return "done"

        register(views)
        register(_blueprint("whole"))


def _blueprint(name: str) -> Blueprint:
    whole = Blueprint(name, __name__)

    @whole.post(f"/{name}/do")
    def act() -> str:
        return "done"

    return whole


def _posts(app: Any) -> list[int]:
    client = app.test_client()
    return [client.post(path, data={}).status_code for path in ("/hooked/do", "/whole/do")]


def test_an_exemption_counts_only_in_the_app_that_registers_what_it_marks(make_hub: Any) -> None:
    signed = create_app(make_hub(("signed", Signed())))
    unsigned = create_app(make_hub(("unsigned", Unsigned())))
    assert _posts(signed) == [200, 200]
    # The same names, unmarked, in another hub's app: refused without a token, as ever.
    assert _posts(unsigned) == [400, 400]
    assert _posts(create_app(make_hub(("unsigned", Unsigned())))) == [400, 400]


def test_making_apps_again_and_again_keeps_nothing_in_the_module(make_hub: Any) -> None:
    def held() -> dict[str, Any]:
        return {name: len(value) for name, value in vars(csrf).items()
                if isinstance(value, list | set | dict | tuple) and not name.startswith("__")}

    before = held()
    for _ in range(3):
        create_app(make_hub(("signed", Signed())))
    assert held() == before


def test_the_current_exemptions_still_hold(make_hub: Any) -> None:
    """The host API (a bearer key) and Intuit's webhooks (a signature) are exempt where they
    are declared; a form post of the UI still needs its token."""
    client = create_app(make_hub(("quickbooks", quickbooks))).test_client()
    assert client.post("/signin", data={"password": "x"}).status_code == 400
    assert client.post("/api/v1/events", json={}).status_code == 401
    # Past the CSRF check to the webhook's own: no verifier token is configured here.
    answer = client.post("/quickbooks/webhooks", data=b"{}")
    assert answer.status_code == 403 and "QBO_WEBHOOK_VERIFIER_TOKEN" in answer.text


def test_an_exemption_by_name_is_refused_saying_why() -> None:
    with pytest.raises(TypeError, match="not its name"):
        csrf_exempt("tests.views.do")
