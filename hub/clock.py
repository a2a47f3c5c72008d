"""The one place the hub reads the time, so tests move it with freezegun."""

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def as_utc(value: datetime) -> datetime:
    """An aware instant as naive UTC, the form stored everywhere."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def iso(value: datetime) -> str:
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def span(total: timedelta) -> str:
    """A retry window as people say it: ``about 3 days``, ``about 6 hours``."""
    hours = total.total_seconds() / 3600
    if hours >= 36:
        return f"about {round(hours / 24)} days"
    if hours >= 1.5:
        return f"about {round(hours)} hours"
    return f"about {max(1, round(hours * 60))} minutes"
