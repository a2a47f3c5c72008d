"""The review-request plugin's settings, as the host contract names them, and the templates'
placeholders.

A template is checked when the operator saves it, so a typo such as ``{nmae}`` is refused with
the reason at ``hub plugins set`` (or next to the field in the settings UI) instead of making
every delivery fail later at send time.
"""

from __future__ import annotations

import string
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

PLACEHOLDERS = ("name", "review_url", "invoice_number")
_ALLOWED = ", ".join("{" + p + "}" for p in PLACEHOLDERS)

DEFAULT_SUBJECT = "Thank you, {name}"
DEFAULT_BODY = (
    "Hello {name},\n\nThank you for settling invoice {invoice_number}. If you have a minute, "
    "we would be grateful for a review:\n\n{review_url}\n\nThank you!"
)


def check_template(text: str) -> set[str]:
    """The placeholders ``text`` uses; ValueError for one ``str.format`` could not fill with
    ours."""
    used: set[str] = set()
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:  # "Single '}' encountered in format string" and the like
        raise ValueError(f"{exc}; write {{{{ or }}}} for a literal brace") from None
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            shown = "{" + field + "}"
            raise ValueError(f"unknown placeholder {shown}; use {_ALLOWED} "
                             "(or {{ and }} for a literal brace)")
        # No format specs or conversions: they are not needed for text and "{name!r}" or
        # "{name:>999999}" is not something an operator means to send.
        if spec or conversion:
            raise ValueError(f"write the placeholder plainly as {{{field}}}, without ! or :")
        used.add(field)
    return used


def fill(template: str, values: dict[str, str]) -> str:
    """Fill a template that passed :func:`check_template`."""
    return template.format(**{key: values.get(key, "") for key in PLACEHOLDERS})


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_url: AnyHttpUrl | None = Field(
        default=None,
        description="the link the customer is asked to follow; nothing is sent without it")
    subject: str = Field(default=DEFAULT_SUBJECT, min_length=1, max_length=200,
                         description="the subject; {name}, {review_url} and {invoice_number} "
                         "are filled in")
    body: str = Field(default=DEFAULT_BODY, min_length=1, max_length=10_000,
                      description="the message; {name}, {review_url}, {invoice_number} are "
                      "filled in")

    @field_validator("review_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `hub plugins set review_requests review_url=` is how an operator switches it off.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("a subject is one line; remove the line break")
        check_template(value)
        return value

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        if "review_url" not in check_template(value):
            raise ValueError("the body must contain {review_url}, or the customer has no link "
                             "to follow")
        return value
