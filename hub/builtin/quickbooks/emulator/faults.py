"""Intuit's fault bodies and the codes this emulator answers with.

Codes and messages follow Intuit's published error-code table:
610 object not found, 2020 required parameter missing, 2500 invalid reference,
4000 query parse error, 5010 stale object, 6000 business validation,
6070 Amount is not Qty * UnitPrice, 6080 no name provided, 6240 duplicate name,
3001 throttled (HTTP 429), 3200 authentication failed (HTTP 401, lower-case shape).
"""

from __future__ import annotations

from typing import Any

from .clock import response_time


class QBOFault(Exception):
    """Raised anywhere in request handling; the server turns it into a fault body."""

    def __init__(
        self,
        code: int | str,
        message: str,
        detail: str = "",
        element: str = "",
        status: int = 400,
        fault_type: str = "ValidationFault",
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = str(code)
        self.message = message
        self.detail = detail or message
        self.element = element
        self.status = status
        self.fault_type = fault_type

    def fault(self) -> dict[str, Any]:
        error: dict[str, Any] = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element:
            error["element"] = self.element
        return {"Error": [error], "type": self.fault_type}

    def body(self) -> dict[str, Any]:
        return {"Fault": self.fault(), "time": response_time()}


TRANSACTION_ENTITIES = ("Invoice", "Payment", "SalesReceipt")


def not_found(entity: str, ident: str) -> QBOFault:
    """Intuit's 610 has two details ("Fix common QuickBooks Online Accounting API errors"): one
    for a transaction (deleted by someone else), one for a name-list object (made inactive)."""
    if entity in TRANSACTION_ENTITIES:
        detail = "Object Not Found : Another user has deleted this transaction."
    else:
        detail = (
            "Object Not Found : Something you're trying to use has been made inactive. "
            "Check the fields with accounts."
        )
    return QBOFault(610, "Object Not Found", f"{detail} ({entity} Id={ident})")


def stale(entity: str) -> QBOFault:
    return QBOFault(
        5010,
        "Stale Object Error",
        "Stale Object Error : You and another user were working on the same thing. "
        f"The other user finished before you did, so your {entity} was not saved.",
    )


def duplicate_name(existing_id: str) -> QBOFault:
    return QBOFault(
        6240,
        "Duplicate Name Exists Error",
        f"The name supplied already exists. : Id={existing_id}",
    )


def required(param: str) -> QBOFault:
    return QBOFault(
        2020,
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {param} is missing in the request",
        element=param,
    )


def invalid_reference(what: str, ident: Any) -> QBOFault:
    return QBOFault(
        2500,
        "Invalid Reference Id",
        f"Invalid Reference Id : {what} assigned to this transaction has been deleted or does not "
        f"exist: Id={ident}",
        element=what,
    )


def amount_mismatch(supplied: Any) -> QBOFault:
    return QBOFault(
        6070,
        "Amount calculation incorrect in the request",
        f"Amount is not equal to UnitPrice * Qty. Supplied value:{supplied}",
        element="Line.Amount",
    )


def business(detail: str) -> QBOFault:
    return QBOFault(
        6000,
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
    )


def no_name() -> QBOFault:
    return QBOFault(
        6080,
        "No Name Provided",
        "Title, GivenName, MiddleName, FamilyName, DisplayName, Suffix - one of these must be "
        "non-empty",
    )


def query_error(detail: str) -> QBOFault:
    return QBOFault(4000, "Error parsing query", f"QueryParserError: {detail}")


def invalid_value(element: str, detail: str) -> QBOFault:
    return QBOFault(2050, "Invalid String Length or Value", detail, element=element)


def unsupported(operation: str, entity: str) -> QBOFault:
    return QBOFault(
        500,
        "Unsupported Operation",
        f"Operation {operation} is not supported for {entity}",
    )


def throttled() -> QBOFault:
    return QBOFault(
        3001,
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "The request limit was reached. Wait 60 seconds and try again.",
        status=429,
        fault_type="SERVICE",
    )


def server_error() -> QBOFault:
    return QBOFault(
        10000,
        "An application error has occurred while processing your request",
        "System Failure Error: An unexpected error occurred while accessing or saving your data.",
        status=500,
        fault_type="SystemFault",
    )


def malformed(exc: Exception) -> QBOFault:
    """Input the emulator could not make sense of (a Line that is not a list, a string where
    an object belongs...). A 400, not a 500: retrying the same body cannot help."""
    return QBOFault(
        2010,
        "Request has invalid or unsupported property",
        f"Could not process the request: {type(exc).__name__}: {exc}",
    )


def auth_failed_body(detail: str) -> dict[str, Any]:
    """Intuit's 401 answer is not the usual envelope: a lower-case `fault` with `error`."""
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": detail,
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": response_time(),
        "status": None,
        "cdcresponse": [],
    }
