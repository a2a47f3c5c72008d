"""The hub's HTTP server (granian, started in this process) as a host meets it."""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any

import pytest
import requests

from hub.web.http_server import HTTPServer
from tests.conftest import serving


def echo_environ(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read()
    seen = {"proxy": environ.get("HTTP_PROXY"), "body": body.decode(),
            "version": list(environ["wsgi.version"]), "path": environ["PATH_INFO"]}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


def test_a_request_is_what_the_client_sent_and_nothing_from_the_servers_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # CGI-style servers copy os.environ into every request: HTTP_PROXY there reads as a
    # "Proxy:" header the client never sent (httpoxy).
    monkeypatch.setenv("HTTP_PROXY", "http://attacker.example:8080")
    direct = requests.Session()
    direct.trust_env = False  # the client itself must not go through that proxy
    with serving(echo_environ) as url:
        answer = direct.post(f"{url}/some/path", data="hello", timeout=5)
        chunked = direct.post(f"{url}/chunked", data=iter([b"hel", b"lo"]), timeout=5)
    assert answer.json() == {"proxy": None, "body": "hello", "version": [1, 0],
                             "path": "/some/path"}
    assert answer.headers["Server"] == "ledgerline-hub"
    assert chunked.json()["body"] == "hello"


def test_an_app_that_writes_through_start_responses_callable_is_answered_whole() -> None:
    def writing(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written, ")
        return [b"then returned"]

    with serving(writing) as url:
        assert requests.get(f"{url}/", timeout=5).text == "written, then returned"


def test_an_app_that_fails_outside_its_own_error_handling_gets_a_500_in_json() -> None:
    def failing(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise RuntimeError("database unreachable")

    with serving(failing) as url:
        answer = requests.get(f"{url}/", timeout=5)
    assert answer.status_code == 500
    assert answer.json()["error"] == "internal_error"


def test_stopping_answers_the_requests_already_in_hand_first() -> None:
    # hub serve stops its server before it closes the database: a request that was being
    # accepted gets its answer, not a dropped connection.
    inside, release = threading.Event(), threading.Event()

    def slow(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        inside.set()
        release.wait(10)
        start_response("202 Accepted", [("Content-Type", "text/plain")])
        return [b"accepted"]

    server = HTTPServer(slow, threads=2)
    server.start()
    answers: list[requests.Response] = []
    client = threading.Thread(target=lambda: answers.append(
        requests.post(f"http://127.0.0.1:{server.port}/", timeout=10)))
    client.start()
    assert inside.wait(10)
    stopped = threading.Event()
    stopper = threading.Thread(target=lambda: (server.stop(), stopped.set()))
    stopper.start()
    assert not stopped.wait(0.2)  # still waiting for the request in hand
    release.set()
    assert stopped.wait(10)
    client.join(10)
    assert answers[0].status_code == 202 and answers[0].text == "accepted"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{server.port}/", timeout=2)


def test_the_environ_is_pep_3333s_for_a_path_outside_ascii_and_a_repeated_header() -> None:
    # The server builds the environ itself (granian's embedded API speaks RSGI): a path is its
    # UTF-8 bytes read as latin-1, as Flask reads it back, and repeated headers are joined.
    def seen(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"path": environ["PATH_INFO"], "query": environ["QUERY_STRING"],
                            "accept": environ.get("HTTP_ACCEPT"),
                            "type": environ.get("CONTENT_TYPE"),
                            "length": environ.get("CONTENT_LENGTH")}).encode()]

    with serving(seen) as url:
        conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=5)
        conn.putrequest("POST", "/caf%C3%A9?x=%20")
        for name, value in [("Accept", "a/b"), ("Accept", "c/d"),
                            ("Content-Type", "application/json"), ("Content-Length", "2")]:
            conn.putheader(name, value)
        conn.endheaders(b"{}")
        got = json.loads(conn.getresponse().read())
        conn.close()
    assert got["path"].encode("latin-1").decode() == "/café" and got["query"] == "x=%20"
    assert got["accept"] == "a/b,c/d"
    assert (got["type"], got["length"]) == ("application/json", "2")
