"""Intuit's own OAuth library (intuit-oauth) and python-quickbooks' classic auth_client path.

intuitlib takes a discovery URL as its `environment`, so it runs unmodified against us."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.objects.customer import Customer

from hub.builtin.quickbooks.emulator.testing import Emulator

from .test_oauth import consent

REDIRECT = "http://localhost:8765/callback"


def test_intuitlib_connect_refresh_revoke(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests-oauthlib (used by python-quickbooks' session) refuses http:// without this.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    auth = AuthClient(
        emulator.client_id, emulator.client_secret, REDIRECT, environment=emulator.discovery_url
    )
    url = auth.get_authorization_url([Scopes.ACCOUNTING])
    callback = parse_qs(urlparse(consent(url)).query)
    assert callback["state"] == [auth.state_token]
    auth.get_bearer_token(callback["code"][0], realm_id=callback["realmId"][0])
    assert auth.access_token and auth.refresh_token and auth.expires_in == 3600
    first_refresh = auth.refresh_token

    qb = QuickBooks(
        auth_client=auth,
        refresh_token=auth.refresh_token,
        company_id=auth.realm_id,
        minorversion=75,
    )
    qb.api_url_v3 = emulator.api_base
    customer = Customer()
    customer.DisplayName = "Via intuitlib"
    assert customer.save(qb=qb).Id

    auth.refresh()
    assert auth.refresh_token != first_refresh
    assert auth.revoke(token=auth.refresh_token)
    with pytest.raises(AuthClientError) as caught:
        auth.refresh()
    assert caught.value.status_code == 400 and b"invalid_grant" in caught.value.content
