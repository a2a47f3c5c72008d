"""What a hostile client puts in a URL: a 404 or a page, never a 5xx, on SQLite and PostgreSQL
(which refuses a NUL in any text it is sent and an integer past 2**31)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.config import load_config
from hub.ui import auth
from hub.web.app import create_app
from tests.conftest import API_KEY, base_env
from tests.plugins.recorder import Recorder
from tests.ui.conftest import PASSWORD, client_sign_in

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def db_client(tmp_path: Path, database_url: str, make_hub: Any) -> Any:
    hub = make_hub(("recorder", Recorder()),
                   cfg=load_config(base_env(tmp_path, database_url), dotenv=False))
    return create_app(hub).test_client(), hub


@pytest.mark.parametrize("path", ["/api/v1/events/evt%00", "/api/v1/invoices/inv%00",
                                  "/api/v1/contacts/c%00", "/api/v1/events/" + "x" * 5000,
                                  "/api/v1/events/%F0%9F%92%B8"])
def test_an_id_no_event_can_have_is_a_404(db_client: Any, path: str) -> None:
    client, _hub = db_client
    answer = client.get(path, headers=AUTH)
    assert answer.status_code == 404, answer.text
    assert answer.json["errors"][0]["field"] == "id"


@pytest.mark.parametrize("path", ["/activity/events/99999999999", "/activity?page=" + "9" * 30,
                                  "/activity?q=a%00b", "/activity?about=c%00-1",
                                  "/activity?about=invoice:%00", "/activity?plugin=%00"])
def test_the_activity_page_answers_whatever_its_url_holds(db_client: Any, path: str) -> None:
    client, hub = db_client
    assert auth.set_first_password(hub, PASSWORD)
    client_sign_in(client)
    answer = client.get(path)
    assert answer.status_code in (200, 302, 404), answer.text
    if answer.status_code == 302:  # a page past the last: the last one is shown
        assert client.get(answer.headers["Location"]).status_code == 200


def test_retrying_a_delivery_number_past_any_row_is_a_404(db_client: Any) -> None:
    client, hub = db_client
    assert auth.set_first_password(hub, PASSWORD)
    token = client_sign_in(client)
    answer = client.post("/activity/deliveries/99999999999/retry", data={"csrf_token": token})
    assert answer.status_code == 404


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/v1/events/evt%0A1", 404), ("GET", "/api/v1/nothing", 404),
    ("DELETE", "/api/v1/events", 405), ("GET", "/api/v1/events", 405)])
def test_a_path_no_api_route_matches_is_answered_in_json(db_client: Any, method: str,
                                                         path: str, status: int) -> None:
    # Seen by the fuzzer: an id holding a newline matched no route and got Flask's HTML page.
    client, _hub = db_client
    answer = client.open(path, method=method, headers=AUTH)
    assert answer.status_code == status and answer.is_json, answer.text
    assert answer.json["errors"][0]["message"]


def test_other_paths_keep_their_own_not_found_page(db_client: Any) -> None:
    client, _hub = db_client
    answer = client.get("/no-such-page")
    assert answer.status_code == 404 and not answer.is_json
