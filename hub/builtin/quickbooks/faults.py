"""QuickBooks' answers that are not successes, as typed errors.

python-quickbooks raises nothing for fault codes 5000–9999 (a stale SyncToken, 5010, or a
duplicate name, 6240, come back as ``None``) and has no notion of throttling, so our session
raises these before python-quickbooks reads a failed answer.
"""

from __future__ import annotations

from typing import Any


class QboError(Exception):
    """Any failed QuickBooks call."""

    def __init__(self, message: str, *, status: int = 0, code: str = "",
                 detail: str = "", element: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail
        self.element = element


class Throttled(QboError):
    """429: over Intuit's per-company limits; Intuit says wait a minute."""


class Unavailable(QboError):
    """5xx, a timeout, or no answer at all: try again later."""


class AuthFailed(QboError):
    """401: the access token was refused (expired early, revoked)."""


class Fault(QboError):
    """A validation or business fault (400 with a Fault body): 5010, 6240, 610, 2020, ..."""


def from_response(status: int, body: Any, text: str) -> QboError:
    errors: list[dict[str, Any]] = []
    if isinstance(body, dict):
        fault = body.get("Fault") or body.get("fault") or {}
        errors = fault.get("Error") or fault.get("error") or []
    first = errors[0] if errors else {}
    code = str(first.get("code", ""))
    message = str(first.get("Message") or first.get("message") or text[:200] or status)
    detail = str(first.get("Detail") or first.get("detail") or "")
    kwargs: dict[str, Any] = dict(status=status, code=code, detail=detail,
                                  element=str(first.get("element", "")))
    if status == 429 or code == "3001":
        return Throttled(f"QuickBooks throttled the hub: {message}", **kwargs)
    if status == 401:
        return AuthFailed(f"QuickBooks refused the access token: {message}", **kwargs)
    if status >= 500:
        return Unavailable(f"QuickBooks answered {status}: {message}", **kwargs)
    return Fault(f"{message}" + (f": {detail}" if detail and detail != message else ""),
                 **kwargs)
