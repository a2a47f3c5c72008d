"""Settings forms derived from a plugin's declared model, and what the pages show of plugins."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from flask.testing import FlaskClient
from pydantic import BaseModel, Field, SecretStr

from hub import hookimpl
from hub.errors import NeedsOperator
from hub.events import Email, Money
from hub.hub import Hub
from hub.plugins.context import Context
from hub.queue.worker import run_due
from hub.ui import auth, forms
from hub.web.app import create_app
from tests.plugins.recorder import Recorder
from tests.ui.conftest import PASSWORD, client_sign_in, csrf_of, send


class Everything(BaseModel):
    enabled_here: bool = Field(True, description="a switch")
    minutes: int = Field(5, ge=1, description="how often")
    threshold: Money = Field(Decimal("0.00"), description="a sum of money")
    emails: list[Email] = Field(default_factory=list, description="who")
    key: SecretStr | None = Field(None, description="a secret")
    mode: Literal["per_session", "monthly"] = "per_session"
    note: str | None = Field(None, description="optional text")
    body: str = Field("Hello", max_length=5000, description="a long message")
    name: str = Field(title="Company name")


def by_name(fields: list[forms.FormField]) -> dict[str, forms.FormField]:
    return {f.name: f for f in fields}


def test_an_input_per_field_by_type_with_defaults_and_help() -> None:
    current = Everything(name="Acme", key=SecretStr("s3cret"), emails=["a@x.io", "b@x.io"],
                         threshold=Decimal("100.00"))
    f = by_name(forms.fields_for(Everything, current))
    assert (f["enabled_here"].kind, f["enabled_here"].checked) == ("checkbox", True)
    assert (f["minutes"].kind, f["minutes"].step, f["minutes"].value) == ("number", "1", "5")
    assert (f["threshold"].kind, f["threshold"].step, f["threshold"].value) == (
        "number", "any", "100.00")
    assert (f["emails"].kind, f["emails"].value) == ("list", "a@x.io, b@x.io")
    assert (f["key"].kind, f["key"].value, f["key"].secret_set) == ("password", "", True)
    assert (f["mode"].kind, f["mode"].choices) == ("select", ["per_session", "monthly"])
    assert f["body"].kind == "textarea" and f["note"].kind == "text"
    assert f["minutes"].help == "How often." and f["minutes"].default_text == "5"
    assert f["name"].label == "Company name" and f["name"].required
    assert f["minutes"].label == "Minutes" and not f["minutes"].required


def test_a_submitted_form_back_as_settings() -> None:
    form = {"minutes": " 7 ", "threshold": "12.50", "emails": "a@x.io, b@x.io", "key": "",
            "mode": "monthly", "note": "", "body": "Hi", "name": "Acme"}
    updates = forms.updates_from(Everything, form)
    assert updates == {"enabled_here": False, "minutes": "7", "threshold": "12.50",
                       "emails": "a@x.io, b@x.io", "mode": "monthly", "note": None,
                       "body": "Hi", "name": "Acme"}  # no "key": the stored secret stays
    assert forms.updates_from(Everything, {"key": "new"})["key"] == "new"
    assert forms.updates_from(Everything, {"key": "", "key__forget": "on"})["key"] is None


def test_errors_go_beside_their_field() -> None:
    by_field, general = forms.errors_by_field(Everything, [
        ("minutes", "must be positive"), ("emails[1]", "is not an email address"),
        ("settings", "something general")])
    assert by_field == {"minutes": ["must be positive"],
                        "emails": ["is not an email address (item 2)"]}
    assert general == ["something general"]


class BrokenCard:
    @hookimpl
    def ui_card(self, ctx: Context) -> str | None:
        raise RuntimeError("boom")


class HostileCard:
    """<script>alert(1)</script> in a docstring is text, not markup."""

    @hookimpl
    def ui_card(self, ctx: Context) -> str | None:
        return '<p>QuickBooks connected <span class="pill green">ok</span></p>'


def test_a_plugin_card_is_shown_and_a_raising_one_does_not_break_the_page(
        make_hub: Any) -> None:
    hub = make_hub(("broken", BrokenCard()), ("friendly", HostileCard()),
                   ("recorder", Recorder()))
    auth.set_first_password(hub, PASSWORD)
    client = create_app(hub).test_client()
    client_sign_in(client)
    page = client.get("/integrations").text
    assert "could not show its status just now" in page
    assert '<span class="pill green">ok</span>' in page  # the plugin's own markup, by contract
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_what_the_host_sent_is_escaped_everywhere(
        ui_client: FlaskClient, signed_up: Hub) -> None:
    send(signed_up, "evt_<b>bold</b>", external_id="<img/src=x>")
    run_due(signed_up)
    client_sign_in(ui_client)
    for path in ("/activity", "/activity/events/1", "/activity?about=%3Cimg%2Fsrc%3Dx%3E"):
        page = ui_client.get(path).text
        assert "<b>bold</b>" not in page and "<img/src=x>" not in page, path
        assert "evt_&lt;b&gt;bold&lt;/b&gt;" in page, path


def test_activity_pages_and_filters(ui_client: FlaskClient, signed_up: Hub) -> None:
    for i in range(30):
        send(signed_up, f"evt_{i:02}", external_id=f"INV-{i}")
    send(signed_up, "evt_c", "contact")
    client_sign_in(ui_client)
    first = ui_client.get("/activity").text
    assert "31 events" in first and "Page 1 of 2" in first
    assert first.index("evt_c") < first.index("evt_29")  # newest first
    second = ui_client.get("/activity?page=2").text
    assert "evt_00" in second and "evt_29" not in second
    assert "1 event match" in ui_client.get("/activity?about=INV-7").text
    assert "1 event match" in ui_client.get("/activity?about=invoice:INV-7").text
    # A customer's own events and every invoice that names them.
    assert "31 events match" in ui_client.get("/activity?about=c-1").text
    assert "1 event match" in ui_client.get("/activity?about=contact:c-1").text
    assert "10 events match" in ui_client.get("/activity?q=evt_1").text  # evt_10 to evt_19
    assert "Nothing matches" in ui_client.get("/activity?q=%25").text  # % is literal
    missing = ui_client.get("/activity/events/999")
    assert missing.status_code == 404 and "Not found" in missing.text
    assert ui_client.get("/activity?page=9").location == "/activity?page=2"


def test_dismiss_from_activity(ui_client: FlaskClient, make_hub: Any) -> None:
    def fail(hook: str, _ctx: Context) -> None:
        if hook != "on_host_event":
            raise RuntimeError("QuickBooks said no")

    hub: Hub = make_hub(("qb", Recorder(fail=fail)))
    auth.set_first_password(hub, PASSWORD)
    client = create_app(hub).test_client()
    token = client_sign_in(client)
    send(hub)
    for _ in range(4):  # HUB_MAX_ATTEMPTS=4 in the tests
        run_due(hub, now=_far_future())
    view = hub.event("evt_1")
    assert view is not None and view["deliveries"][0]["status"] == "dead"
    assert "4 attempts" in client.get("/activity").text
    answer = client.post("/activity/deliveries/1/dismiss",
                         data={"csrf_token": token, "next": "/activity?status=attention"})
    assert answer.location == "/activity?status=attention"
    view = hub.event("evt_1")
    assert view is not None and view["deliveries"][0]["status"] == "skipped"
    assert "dismissed by operator" in client.get("/activity").text


def _far_future() -> Any:
    from datetime import datetime
    return datetime(2100, 1, 1)


def test_retry_all_of_one_integration_from_its_card(make_hub: Any) -> None:
    failing = {"on": True}

    def fail(hook: str, _ctx: Context) -> None:
        if failing["on"] and hook != "on_host_event":
            raise NeedsOperator("reconnect QuickBooks")

    hub: Hub = make_hub(("qb", Recorder(fail=fail)), ("recorder", Recorder()))
    auth.set_first_password(hub, PASSWORD)
    client = create_app(hub).test_client()
    token = client_sign_in(client)
    send(hub, "evt_1")
    send(hub, "evt_2", external_id="inv-2")
    run_due(hub)
    page = client.get("/integrations").text
    assert "2 stopped" in page and "Retry all 2" in page and "reconnect QuickBooks" in page
    failing["on"] = False
    answer = client.post("/activity/plugins/qb/retry", data={"csrf_token": token})
    assert answer.status_code == 302
    assert run_due(hub) == 2
    assert "2 stopped" not in client.get("/integrations").text
    assert client.post("/activity/plugins/nope/retry",
                       data={"csrf_token": token}).status_code == 404


class ConnectCard:
    """A plugin with a button on its card, posting to its own guarded route."""

    def __init__(self) -> None:
        from flask import Blueprint

        from hub.ui import csrf_field, operator_only

        self.connected = False
        self.blueprint = Blueprint("connect_card", __name__, url_prefix="/connect-card")
        self.csrf_field = csrf_field

        @self.blueprint.post("/connect")
        @operator_only
        def connect() -> Any:
            self.connected = True
            return "connected"

    @hookimpl
    def register_blueprints(self, register: Any) -> None:
        register(self.blueprint)

    @hookimpl
    def ui_card(self, ctx: Context) -> str | None:
        return ('<form method="post" action="/connect-card/connect">'
                f'{self.csrf_field()}<button>Connect</button></form>')


def test_a_plugin_card_button_posts_to_a_route_guarded_like_the_ui(make_hub: Any) -> None:
    plugin = ConnectCard()
    hub: Hub = make_hub(("connect_card", plugin))
    auth.set_first_password(hub, PASSWORD)
    client = create_app(hub).test_client()
    assert client.post("/connect-card/connect").status_code == 400  # no token
    anonymous = csrf_of(client.get("/signin").text)
    answer = client.post("/connect-card/connect", data={"csrf_token": anonymous})
    assert answer.location.startswith("/signin")  # a token, but nobody signed in
    token = client_sign_in(client)
    assert client.post("/connect-card/connect").status_code == 400  # no token
    assert not plugin.connected
    page = client.get("/integrations").text
    assert f'name="csrf_token" value="{token}"' in page.split("Connect</button>")[0]
    assert client.post("/connect-card/connect", data={"csrf_token": token}).text == "connected"
    assert plugin.connected


def _as_browser_submits(fields: list[forms.FormField]) -> dict[str, str]:
    """What a browser posts for an untouched form: unticked boxes and empty secrets absent."""
    form = {}
    for f in fields:
        if f.kind == "checkbox":
            if f.checked:
                form[f.name] = "on"
        elif f.kind != "password":
            form[f.name] = f.value
    return form


def test_the_built_in_plugins_forms_save_back_unchanged(make_hub: Any) -> None:
    from hub.builtin.booking_gate.settings import Settings as Gate
    from hub.builtin.quickbooks.settings import Settings as QuickBooks
    from hub.builtin.review_requests.settings import Settings as Reviews

    class Declares:
        def __init__(self, model: type[BaseModel]) -> None:
            self.model = model

        @hookimpl
        def settings_model(self) -> type[BaseModel]:
            return self.model

    hub: Hub = make_hub(("gate", Declares(Gate)), ("qb", Declares(QuickBooks)),
                        ("reviews", Declares(Reviews)))
    hub.states.update_settings("gate", {"threshold": "100.00", "exempt": "a@x.io, b@x.io"})
    hub.states.update_settings("qb", {"monthly_services": "Math, Piano", "billing": "monthly"})
    for name, model in (("gate", Gate), ("qb", QuickBooks), ("reviews", Reviews)):
        before = hub.states.settings(name)
        submitted = _as_browser_submits(forms.fields_for(model, before))
        after = hub.states.update_settings(name, forms.updates_from(model, submitted))
        assert after == before, name
