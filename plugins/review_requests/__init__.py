"""Sends one review request on a customer's first fully paid invoice."""

from __future__ import annotations

from pydantic import BaseModel

from hub import hookimpl
from plugins.review_requests.settings import Settings


@hookimpl
def settings_model() -> type[BaseModel]:
    return Settings
