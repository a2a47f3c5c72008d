"""OAuth 2.0 the way Intuit runs it: discovery, consent page, code + PKCE, rotating refresh
tokens (the old one lives 24 h more), 100-day rolling and 5-year hard refresh limits, revoke."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from . import tokens
from .clock import epoch
from .state import EmulatorState

bp = Blueprint("qbo_oauth", __name__)
AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
USERINFO_PATH = "/v1/openid_connect/userinfo"
JWKS_PATH = "/op/v1/jwks"


def state() -> EmulatorState:
    return current_app.extensions["qbo_emulator"]  # type: ignore[no-any-return]


def oauth_data() -> dict[str, Any]:
    return state().store.data["oauth"]  # type: ignore[no-any-return]


def base() -> str:
    return state().base_url or request.host_url.rstrip("/")


@bp.get("/.well-known/openid_configuration")
@bp.get("/.well-known/openid_sandbox_configuration")
@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    root = base()
    return jsonify(
        {
            "issuer": root + "/op/v1",
            "authorization_endpoint": root + AUTHORIZE_PATH,
            "token_endpoint": root + TOKEN_PATH,
            "userinfo_endpoint": root + USERINFO_PATH,
            "revocation_endpoint": root + REVOKE_PATH,
            "jwks_uri": root + JWKS_PATH,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": [
                "openid",
                "email",
                "profile",
                "address",
                "phone",
                "com.intuit.quickbooks.accounting",
                "com.intuit.quickbooks.payment",
            ],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
        }
    )


@bp.get(JWKS_PATH)
def jwks() -> Response:
    # No id_token is issued, so there is no signing key to publish.
    return jsonify({"keys": []})


def error_page(message: str, status: int = 400) -> Response:
    body = (
        "<!doctype html><title>Error</title><h1>Authorization error</h1>"
        f"<p>{html.escape(message)}</p>"
    )
    return Response(body, status=status, mimetype="text/html")


def redirect_allowed(uri: str) -> bool:
    allowed = state().config.redirect_uris
    return bool(uri) and (allowed is None or uri in allowed)


@bp.route(AUTHORIZE_PATH, methods=["GET", "POST"])
def authorize() -> BaseResponse:
    params = request.values
    config = state().config
    if params.get("client_id") != config.client_id:
        return error_page("invalid_client: unknown client_id")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_allowed(redirect_uri):
        return error_page("invalid_request: redirect_uri is missing or not registered")
    if params.get("response_type", "code") != "code":
        return error_page("unsupported_response_type")
    if request.method == "GET":
        return consent_page(params)
    back: dict[str, str] = {}
    if params.get("state"):
        back["state"] = params["state"]
    if params.get("decision") != "connect":
        back["error"] = "access_denied"
        return redirect(redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(back))
    realm = params.get("realmId", "")
    if state().store.company(realm) is None:
        return error_page("Choose a company to connect")
    code = "AB" + secrets.token_urlsafe(32)
    with state().store.lock:
        oauth_data()["codes"][code] = {
            "client_id": config.client_id,
            "realm": realm,
            "redirect_uri": redirect_uri,
            "scope": params.get("scope", ""),
            "challenge": params.get("code_challenge") or None,
            "method": params.get("code_challenge_method") or "plain",
            "expires": epoch() + config.code_ttl,
        }
    state().store.save()
    back |= {"code": code, "realmId": realm}
    return redirect(redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(back))


def consent_page(params: Any) -> Response:
    companies = state().store.data["companies"]
    options = "".join(
        f'<label><input type="radio" name="realmId" value="{html.escape(realm)}"'
        f"{' checked' if i == 0 else ''}> {html.escape(c['name'])} ({html.escape(realm)})"
        "</label><br>"
        for i, (realm, c) in enumerate(companies.items())
    )
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params.get(name, ""))}">'
        for name in (
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
        )
    )
    body = (
        "<!doctype html><html><head><title>Connect to QuickBooks (emulator)</title></head><body>"
        "<h1>Connect your QuickBooks company</h1>"
        f'<form method="post" action="{AUTHORIZE_PATH}"><fieldset><legend>Company</legend>'
        f"{options}</fieldset>{hidden}"
        '<button type="submit" name="decision" value="connect">Connect</button> '
        '<button type="submit" name="decision" value="cancel">Cancel</button>'
        "</form></body></html>"
    )
    return Response(body, mimetype="text/html")


def token_error(error: str, status: int = 400) -> Response:
    response = jsonify({"error": error})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def client_authenticated() -> bool:
    config = state().config
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        client_id, secret = auth.username or "", auth.password or ""
    else:
        client_id = request.form.get("client_id", "")
        secret = request.form.get("client_secret", "")
    return hmac.compare_digest(client_id, config.client_id) and hmac.compare_digest(
        secret, config.client_secret
    )


def pkce_ok(record: dict[str, Any], verifier: str | None) -> bool:
    if not record.get("challenge"):
        return True
    if not verifier:
        return False
    if record["method"] == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        computed = verifier
    return hmac.compare_digest(computed, record["challenge"])


@bp.post(TOKEN_PATH)
def token() -> Response:
    if not client_authenticated():
        return token_error("invalid_client", 401)
    grant_type = request.form.get("grant_type")
    st = state()
    # A slow token call (delay_next(..., only="token")) is how a test keeps one refresh in
    # flight while another process asks: Intuit's token endpoint is a network call too.
    delay = st.switches.take_delay("token")
    if delay > 0:
        time.sleep(delay)
    store = st.store
    with store.lock:
        if grant_type == "authorization_code":
            record = oauth_data()["codes"].pop(request.form.get("code", ""), None)
            if (
                record is None
                or record["expires"] <= epoch()
                or record["redirect_uri"]
                != request.form.get("redirect_uri", record["redirect_uri"])
                or not pkce_ok(record, request.form.get("code_verifier"))
            ):
                return token_error("invalid_grant")
            answer = tokens.issue(st, tokens.new_grant(st, record["realm"], record["scope"]))
        elif grant_type == "refresh_token":
            presented = request.form.get("refresh_token", "")
            grant_id = tokens.live_refresh_grant(st, presented)
            if grant_id is None:
                return token_error("invalid_grant")
            old = oauth_data()["refresh"][presented]
            old.setdefault("superseded_at", epoch())
            answer = tokens.issue(st, grant_id)
        else:
            return token_error("unsupported_grant_type")
    store.save()
    if request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() != "true":
        # As Intuit: the 5-year limit is reported only to a token call that asks for it.
        answer.pop("x_refresh_token_hard_expires_in", None)
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post(REVOKE_PATH)
def revoke() -> Response:
    if not client_authenticated():
        return token_error("invalid_client", 401)
    body = request.get_json(silent=True) if request.is_json else None
    token_value = (body or {}).get("token") or request.form.get("token", "")
    if not token_value:
        return token_error("invalid_request")
    tokens.revoke_grant(state(), token_value)
    # Like RFC 7009 (and Intuit), unknown tokens are not an error.
    return Response(status=200)


def bearer_status(realm: str | None) -> tuple[str, str | None]:
    """('ok', None) or (kind, detail) where kind is 'unauthorized' or 'forbidden'."""
    auth = request.headers.get("Authorization", "")
    if not auth.lower().startswith("bearer "):
        return "unauthorized", "Authorization header missing or not a Bearer token"
    return tokens.access_status(state(), auth[7:].strip(), realm)


@bp.get(USERINFO_PATH)
def userinfo() -> Response:
    status, detail = bearer_status(None)
    if status != "ok":
        return token_error("invalid_token", 401)
    return jsonify(
        {
            "sub": "emulator-user",
            "email": "owner@example.com",
            "emailVerified": True,
            "givenName": "Demo",
            "familyName": "Owner",
        }
    )
