"""The review-request plugin's settings, as the host contract names them."""

from __future__ import annotations

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

DEFAULT_SUBJECT = "Thank you, {name}"
DEFAULT_BODY = (
    "Hello {name},\n\nThank you for settling invoice {invoice_number}. If you have a minute, "
    "we would be grateful for a review:\n\n{review_url}\n\nThank you!"
)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_url: AnyHttpUrl | None = Field(
        None, description="the link the customer is asked to follow; nothing is sent without it")
    subject: str = Field(DEFAULT_SUBJECT, min_length=1, max_length=200,
                         description="the subject; {name} and {invoice_number} are filled in")
    body: str = Field(DEFAULT_BODY, min_length=1, max_length=10_000,
                      description="the message; {name}, {review_url}, {invoice_number} are "
                      "filled in")
