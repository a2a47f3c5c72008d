"""The two ways to connect: from the browser (authorize, then callback) and from the command
line with a refresh token. Both read the company's facts before anything is saved, so a wrong
company or environment fails loudly instead of half-connecting."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.builtin.quickbooks import connection, oauth
from hub.builtin.quickbooks.company import read_company

if TYPE_CHECKING:
    from hub import Context


class ConnectError(Exception):
    """Connecting failed; the message says why and what to do."""


def _finish(ctx: Context, realm_id: str, environment: str, tokens: oauth.Tokens,
            review_first: bool = False) -> str:
    try:
        company = read_company(ctx.config, environment, realm_id, tokens.access_token, ctx)
    except Exception as exc:
        raise ConnectError(f"connected to Intuit, but could not read the company: {exc}") \
            from None
    connection.save_connection(ctx, realm_id, environment, tokens, company)
    connected = f"QuickBooks connected: {company.get('name') or realm_id} ({environment})"
    if review_first and connection.row(ctx)["cdc_cursor"] is None:  # type: ignore[index]
        # Nothing imported yet: the operator chooses "Import now" or "Review first".
        connection.hold_first_import(ctx, True)
        return connected
    # The first import at once, not at the next poll slot (up to poll_minutes away): until
    # it has read the company, every balance the booking gate asks for is stale.
    ctx.run_job("sweep")
    return connected


def import_now(ctx: Context) -> str:
    """The operator's go for the import (``hub quickbooks import``, "Import now")."""
    connection.hold_first_import(ctx, False)
    ctx.run_job("sweep")
    return "Import started: Activity shows how it goes"


def _is_realm_id(value: str) -> bool:
    # ASCII digits only: str.isdigit() takes '١٢٣' too, which no company id is.
    return 0 < len(value) <= 32 and value.isascii() and value.isdigit()


def with_refresh_token(ctx: Context, realm_id: str, refresh_token: str,
                       environment: str | None = None, review_first: bool = False) -> str:
    """``hub quickbooks connect``: exchange the refresh token now, or fail loudly."""
    environment = environment or ctx.config.qbo_environment
    realm_id = realm_id.strip()
    if not _is_realm_id(realm_id):
        raise ConnectError(f"--realm-id {realm_id!r}: the company id is a number, shown in "
                           "QuickBooks under Settings → Account and settings → Billing")
    try:
        tokens = oauth.refresh(ctx.config, environment, refresh_token.strip(), memory=ctx.memory)
    except oauth.NotConfigured as exc:
        raise ConnectError(str(exc)) from None
    except oauth.OAuthFailure as exc:
        hint = (" (the token is expired, revoked or from another app: get a new one)"
                if exc.code == "invalid_grant" else "")
        raise ConnectError(f"Intuit refused the refresh token: {exc}{hint}") from None
    return _finish(ctx, realm_id, environment, tokens, review_first=review_first)


def start_browser(ctx: Context) -> str:
    """The URL of Intuit's consent page; remembers the state and the PKCE verifier."""
    try:
        url, state, verifier = oauth.authorization_url(ctx.config, ctx.config.qbo_environment,
                                                       memory=ctx.memory)
    except (oauth.NotConfigured, oauth.OAuthFailure) as exc:
        raise ConnectError(str(exc)) from None
    connection.remember_state(ctx, state, verifier)
    return url


def finish_browser(ctx: Context, *, state: str | None, code: str | None, realm_id: str | None,
                   error: str | None = None) -> str:
    """The callback: check the state we sent, exchange the code, read the company."""
    if error:
        raise ConnectError("the connection was not approved in QuickBooks "
                           f"({error}); click Connect to try again")
    verifier = connection.take_state(ctx, state or "")
    if verifier is None:
        raise ConnectError("this connect link is not one this hub started, or it is more than "
                           "15 minutes old; click Connect to start again")
    if not code or not realm_id:
        raise ConnectError("QuickBooks sent no authorization code or company id back")
    if not _is_realm_id(realm_id):
        raise ConnectError("QuickBooks sent back a company id that is not a number; click "
                           "Connect to start again")
    try:
        tokens = oauth.exchange_code(ctx.config, ctx.config.qbo_environment, code, verifier,
                                     memory=ctx.memory)
    except oauth.OAuthFailure as exc:
        raise ConnectError(f"Intuit refused the authorization code: {exc}") from None
    return _finish(ctx, realm_id, ctx.config.qbo_environment, tokens, review_first=True)
