"""What a plugin raises to tell the dispatcher how a delivery went.

Any other exception is a transient failure: the delivery is retried with backoff and parked as
dead after its last attempt. These four say something more precise, and each message is shown to
the operator as it is, so it should name the fix.
"""

from __future__ import annotations

from datetime import timedelta


class DeliveryError(Exception):
    """Base of the outcomes below; ``str(error)`` is what the operator reads."""


class RetryLater(DeliveryError):
    """A transient failure (QuickBooks throttled or down): try again, at ``after`` if given."""

    def __init__(self, message: str, after: timedelta | None = None) -> None:
        super().__init__(message)
        self.after = after


class Hold(DeliveryError):
    """Wait without spending an attempt until the plugin calls ``Hub.release(plugin)``.

    For conditions only an operator can clear, such as a QuickBooks connection that needs
    reconnecting: the work is neither failed nor dead, it is waiting.
    """


class Skip(DeliveryError):
    """Nothing to do for this event (the plugin is not configured for it); not an error."""


class NeedsOperator(DeliveryError):
    """Retrying cannot help until someone fixes the input: park as dead now, retryable later."""


class ConfigError(Exception):
    """Bad configuration or settings; the message names the field and the fix."""
