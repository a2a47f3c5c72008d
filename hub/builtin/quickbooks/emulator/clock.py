"""Time, read at call time so freezegun (and a test moving the clock) is always honoured."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

# QuickBooks answers in the company's local time; the demo company lives in California.
# A fixed offset keeps timestamps deterministic (no DST surprises in tests).
COMPANY_TZ = timezone(timedelta(hours=-8))


def now() -> datetime:
    return datetime.now(UTC)


def epoch() -> float:
    return time.time()


def qbo_timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 with the company's offset, as Intuit writes MetaData times."""
    moment = moment or now()
    return moment.astimezone(COMPANY_TZ).isoformat(timespec="seconds")


def response_time() -> str:
    """The envelope's `time` field carries milliseconds, like Intuit's."""
    return now().astimezone(COMPANY_TZ).isoformat(timespec="milliseconds")


def today() -> str:
    return now().astimezone(COMPANY_TZ).date().isoformat()


def parse_timestamp(text: str) -> datetime:
    """Parse a date or date-time; a naked date or naive time is taken in the company's zone."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=COMPANY_TZ)
    return value
