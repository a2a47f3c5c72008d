"""What a plugin raises to tell the dispatcher how a delivery went.

Any other exception is a transient failure: the delivery is retried with backoff and parked as
dead after its last attempt. These four say something more precise, and each message is shown to
the operator as it is, so it should name the fix.

An exception's text is stored as the delivery's ``last_error`` and logged (its traceback too):
never put a secret in one. The hub takes the plugin's own ``SecretStr`` settings and its own
secrets out first (``hub.redact``), but not a token the plugin keeps elsewhere.

A delivery's status: ``pending`` (due now or at ``next_attempt_at``; after a raise it carries
the ``last_error``), ``running`` (a worker has it), ``done`` (the hook returned), ``waiting``
(``Hold``: until the plugin calls ``ctx.release()``), ``skipped`` (``Skip``) and ``dead``
(``NeedsOperator``, or out of attempts: parked until the operator retries it). An event's
status follows from its deliveries': ``dead`` if any is, ``done`` when all are done or skipped,
``failed`` while an unfinished one carries an error (a retry is pending, or it is held),
``pending`` otherwise.
"""

from __future__ import annotations

from datetime import timedelta


class DeliveryError(Exception):
    """Base of the outcomes below; ``str(error)`` is what the operator reads."""


class RetryLater(DeliveryError):
    """A transient failure (QuickBooks throttled or down): try again, at ``after`` if given.

    ``spend_attempt=False`` is for waiting that is not failing (a rate limit): the attempt is
    given back, so a long backlog drains instead of running out of attempts. ``pause_plugin``
    moves every other delivery of the plugin due before then to the same time, so waiting work
    is not claimed only to be turned away again.
    """

    def __init__(self, message: str, after: timedelta | None = None, *,
                 spend_attempt: bool = True, pause_plugin: bool = False) -> None:
        super().__init__(message)
        self.after = after
        self.spend_attempt = spend_attempt
        self.pause_plugin = pause_plugin and after is not None


class Hold(DeliveryError):
    """Wait without spending an attempt until the plugin calls ``ctx.release()``.

    For conditions only an operator can clear, such as a QuickBooks connection that needs
    reconnecting: the work is neither failed nor dead, it is waiting.
    """


class Skip(DeliveryError):
    """Nothing to do for this event (the plugin is not configured for it); not an error."""


class NeedsOperator(DeliveryError):
    """Retrying cannot help until someone fixes the input: park as dead now, retryable later."""


class ConfigError(Exception):
    """Bad configuration or settings; the message names the field and the fix."""
