"""What a person does on the emulator's consent page: open it, pick the company, click Connect
(or Cancel). Used by ``make run`` to connect the demo hub the way an operator would, and by the
tests of the browser connect."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import requests

FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge",
          "code_challenge_method")


def approve(authorize_url: str, decision: str = "connect") -> dict[str, str]:
    """Open the consent page the authorize URL names, submit its form with ``decision``, and
    return the query Intuit's redirect would bring back to the app's callback (code, state,
    realmId; or error)."""
    page = requests.get(authorize_url, timeout=10)
    page.raise_for_status()
    query = {k: v[0] for k, v in parse_qs(urlparse(authorize_url).query).items()}
    realm = page.text.split('name="realmId" value="', 1)[1].split('"', 1)[0]
    answer = requests.post(authorize_url.split("?", 1)[0],
                           data={**{k: query.get(k, "") for k in FIELDS}, "realmId": realm,
                                 "decision": decision},
                           allow_redirects=False, timeout=10)
    back = urlparse(answer.headers["Location"])
    return {k: v[0] for k, v in parse_qs(back.query).items()}
