"""OAuth 2.0 against the emulator with authlib (discovery, consent, PKCE, rotation, revoke)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from freezegun import freeze_time
from quickbooks import QuickBooks
from quickbooks.exceptions import AuthorizationException
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.customer import Customer

from hub.builtin.quickbooks.emulator.testing import Emulator

from .conftest import make_client
from .forms import read_form

REDIRECT = "http://localhost:8765/quickbooks/callback"


@pytest.fixture(autouse=True)
def plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    # authlib refuses http:// unless told; only ever for the local emulator.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


def discover(emulator: Emulator) -> dict[str, Any]:
    return dict(requests.get(emulator.discovery_url, timeout=5).json())


def oauth_client(emulator: Emulator, **extra: Any) -> OAuth2Session:
    return OAuth2Session(
        emulator.client_id,
        emulator.client_secret,
        scope="com.intuit.quickbooks.accounting openid",
        redirect_uri=REDIRECT,
        **extra,
    )


def consent(authorization_url: str, button: str = "Connect") -> str:
    """Open the consent page, pick the company shown, press the button; return the redirect."""
    with requests.Session() as browser:
        page = browser.get(authorization_url, timeout=5)
        assert page.status_code == 200
        form = read_form(page.text)
        assert form.radios["realmId"], "the page offers a company to choose"
        assert "Connect" in form.buttons
        name, value = form.buttons[button]
        action = authorization_url.split("/connect/")[0] + form.action
        answer = browser.post(
            action, data=form.fields | {name: value}, allow_redirects=False, timeout=5
        )
    assert answer.status_code == 302
    return answer.headers["Location"]


def connect(emulator: Emulator, pkce: bool = True) -> tuple[OAuth2Session, dict[str, Any]]:
    doc = discover(emulator)
    client = (
        oauth_client(emulator, code_challenge_method="S256") if pkce else oauth_client(emulator)
    )
    verifier = "v" * 64
    url, state = client.create_authorization_url(
        doc["authorization_endpoint"], code_verifier=verifier if pkce else None
    )
    callback = consent(url)
    assert f"state={state}" in callback and "realmId=" in callback and "code=" in callback
    token = client.fetch_token(
        doc["token_endpoint"],
        authorization_response=callback,
        code_verifier=verifier if pkce else None,
    )
    return client, dict(token)


def test_discovery_names_its_own_endpoints(emulator: Emulator) -> None:
    doc = discover(emulator)
    for key in (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "revocation_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
    ):
        assert doc[key].startswith(emulator.base_url), key
    assert requests.get(doc["jwks_uri"], timeout=5).json() == {"keys": []}


def test_connect_with_pkce_and_call_the_api(emulator: Emulator) -> None:
    client, token = connect(emulator)
    assert token["expires_in"] == 3600
    assert token["x_refresh_token_expires_in"] == 100 * 86400
    # The 5-year limit is told only to a token call that asks for it (Intuit's header).
    assert "x_refresh_token_hard_expires_in" not in token
    qb = make_client(emulator, token["access_token"])
    info = CompanyInfo.get(emulator.realm_id, qb=qb)
    assert info.Country == "US"
    userinfo = client.get(discover(emulator)["userinfo_endpoint"], timeout=5)
    assert userinfo.json()["email"]


def test_pkce_verifier_is_checked(emulator: Emulator) -> None:
    doc = discover(emulator)
    client = oauth_client(emulator, code_challenge_method="S256")
    url, _ = client.create_authorization_url(doc["authorization_endpoint"], code_verifier="a" * 64)
    callback = consent(url)
    with pytest.raises(OAuthError) as caught:
        client.fetch_token(
            doc["token_endpoint"], authorization_response=callback, code_verifier="b" * 64
        )
    assert caught.value.error == "invalid_grant"


def test_cancel_redirects_with_access_denied(emulator: Emulator) -> None:
    client = oauth_client(emulator)
    url, _ = client.create_authorization_url(discover(emulator)["authorization_endpoint"])
    assert "error=access_denied" in consent(url, button="Cancel")


def test_code_is_single_use_and_client_auth_is_checked(emulator: Emulator) -> None:
    doc = discover(emulator)
    client = oauth_client(emulator)
    url, _ = client.create_authorization_url(doc["authorization_endpoint"])
    callback = consent(url)
    code = callback.split("code=")[1].split("&")[0]
    wrong = requests.post(
        doc["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(emulator.client_id, "not-the-secret"),
        timeout=5,
    )
    assert wrong.status_code == 401 and wrong.json() == {"error": "invalid_client"}
    client.fetch_token(doc["token_endpoint"], authorization_response=callback)
    again = requests.post(
        doc["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(emulator.client_id, emulator.client_secret),
        timeout=5,
    )
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}


def test_refresh_rotates_and_old_token_lives_24_hours(emulator: Emulator) -> None:
    doc = discover(emulator)
    with freeze_time("2026-03-01 12:00:00") as clock:
        client, first = connect(emulator, pkce=False)
        second = client.refresh_token(doc["token_endpoint"], refresh_token=first["refresh_token"])
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]

        clock.tick(timedelta(hours=23))
        # Still good 23 hours later: a retry after a lost answer must not lock the user out.
        replay = client.refresh_token(doc["token_endpoint"], refresh_token=first["refresh_token"])
        assert replay["refresh_token"]

        clock.tick(timedelta(hours=2))
        with pytest.raises(OAuthError) as caught:
            client.refresh_token(doc["token_endpoint"], refresh_token=first["refresh_token"])
        assert caught.value.error == "invalid_grant"
        third = client.refresh_token(doc["token_endpoint"], refresh_token=second["refresh_token"])
        assert third["refresh_token"]


def test_access_token_expires_after_an_hour(emulator: Emulator) -> None:
    with freeze_time("2026-03-01 12:00:00") as clock:
        token = emulator.connect()
        qb = make_client(emulator, token["access_token"])
        CompanyInfo.get(emulator.realm_id, qb=qb)
        clock.tick(timedelta(seconds=3601))
        with pytest.raises(AuthorizationException) as caught:
            CompanyInfo.get(emulator.realm_id, qb=qb)
    assert caught.value.error_code == 401
    # python-quickbooks keeps the raw body in `detail`: Intuit's lower-case fault shape.
    assert '"code": "3200"' in caught.value.detail and '"fault"' in caught.value.detail


def test_refresh_token_lapses_after_100_days_unused(emulator: Emulator) -> None:
    with freeze_time("2026-03-01 12:00:00") as clock:
        token = emulator.connect()
        clock.tick(timedelta(days=100, seconds=1))
        answer = requests.post(
            discover(emulator)["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
            auth=(emulator.client_id, emulator.client_secret),
            timeout=5,
        )
    assert answer.status_code == 400 and answer.json() == {"error": "invalid_grant"}


def test_revoke_kills_the_whole_grant(emulator: Emulator) -> None:
    doc = discover(emulator)
    client, token = connect(emulator, pkce=False)
    answer = client.revoke_token(doc["revocation_endpoint"], token=token["refresh_token"])
    assert answer.status_code == 200
    qb = make_client(emulator, token["access_token"])
    with pytest.raises(AuthorizationException):
        CompanyInfo.get(emulator.realm_id, qb=qb)
    with pytest.raises(OAuthError) as caught:
        client.refresh_token(doc["token_endpoint"], refresh_token=token["refresh_token"])
    assert caught.value.error == "invalid_grant"


def test_control_expires_and_revokes_tokens(emulator: Emulator) -> None:
    token = emulator.connect()
    qb = make_client(emulator, token["access_token"])
    assert emulator.expire_tokens(token["access_token"]) == 1
    with pytest.raises(AuthorizationException):
        CompanyInfo.get(emulator.realm_id, qb=qb)
    other = emulator.connect()
    answer = requests.post(
        emulator.base_url + "/_emulator/tokens/revoke",
        json={"token": other["access_token"]},
        timeout=5,
    )
    assert answer.json() == {"revoked": True}
    refused = requests.post(
        emulator.base_url + "/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": other["refresh_token"]},
        auth=(emulator.client_id, emulator.client_secret),
        timeout=5,
    )
    assert refused.json() == {"error": "invalid_grant"}


def test_unknown_refresh_token_is_invalid_grant(emulator: Emulator) -> None:
    answer = requests.post(
        emulator.base_url + "/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": "nope"},
        auth=(emulator.client_id, emulator.client_secret),
        timeout=5,
    )
    assert answer.status_code == 400 and answer.json() == {"error": "invalid_grant"}


def test_full_cycle_with_authlib_session_driving_python_quickbooks(emulator: Emulator) -> None:
    """authlib holds the tokens; python-quickbooks reads `session.access_token` and calls
    `session.request`, so the authlib session itself is handed to it."""
    doc = discover(emulator)
    client, token = connect(emulator)
    client.access_token = token["access_token"]  # type: ignore[attr-defined]
    qb = QuickBooks(company_id=emulator.realm_id, minorversion=75)
    qb.api_url_v3 = emulator.api_base
    qb.session = client

    customer = Customer()
    customer.DisplayName = "Authlib Customer"
    created = customer.save(qb=qb, request_id="authlib-1")
    assert customer.save(qb=qb, request_id="authlib-1").Id == created.Id

    fresh = client.refresh_token(doc["token_endpoint"], refresh_token=token["refresh_token"])
    client.access_token = fresh["access_token"]  # type: ignore[attr-defined]
    found = Customer.filter(DisplayName="Authlib Customer", qb=qb)
    assert [c.Id for c in found] == [created.Id]
    client.close()


def test_refresh_never_outlives_the_five_year_hard_limit(emulator: Emulator) -> None:
    with freeze_time("2026-03-01 12:00:00") as clock:
        token = emulator.connect()
        clock.tick(timedelta(days=5 * 365 - 10))
        # As if refreshed every few weeks: push the 100-day window out, leaving the hard limit.
        emulator.state.store.data["oauth"]["refresh"][token["refresh_token"]]["expires"] += 10**9
        answer = requests.post(
            emulator.base_url + "/oauth2/v1/tokens/bearer",
            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
            auth=(emulator.client_id, emulator.client_secret),
            headers={"x-include-refresh-token-hard-expires-in": "true"},
            timeout=5,
        ).json()
        assert answer["x_refresh_token_hard_expires_in"] == 10 * 86400
        assert answer["x_refresh_token_expires_in"] == 10 * 86400
        clock.tick(timedelta(days=11))
        refused = requests.post(
            emulator.base_url + "/oauth2/v1/tokens/bearer",
            data={"grant_type": "refresh_token", "refresh_token": answer["refresh_token"]},
            auth=(emulator.client_id, emulator.client_secret),
            timeout=5,
        )
    assert refused.json() == {"error": "invalid_grant"}
