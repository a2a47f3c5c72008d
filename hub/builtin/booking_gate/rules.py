"""The gate's decision: a pure function of the client's balance and the operator's settings.

Nothing here reads the database or the clock, so every rule can be tested on its own.
"""

from __future__ import annotations

from decimal import Decimal

from hub.builtin.booking_gate.settings import Settings
from hub.events import Balance, Verdict

ZERO = Decimal("0.00")

# Symbols that read unambiguously to an English-speaking client. Other codes are written after
# the amount ("130.00 CHF"), so the host never shows a symbol that means another currency.
SYMBOLS = {
    "USD": "$", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "GBP": "£", "EUR": "€",
    "INR": "₹", "JPY": "¥",
}
# ISO 4217 currencies without minor units: "¥1,300", never "¥1,300.00".
NO_CENTS = {"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "UGX", "XAF", "XOF"}


def money(amount: Decimal, currency: str | None = None) -> str:
    """``$1,300.00`` for USD; ``1,300.00 CHF`` for a code without a symbol here; ``1,300.00``
    when the currency is unknown (a ``Balance`` carries none)."""
    places = ",.0f" if currency in NO_CENTS else ",.2f"
    number = format(abs(amount), places)
    sign = "-" if amount < 0 else ""
    if currency is None:
        return f"{sign}{number}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"


def normal_email(email: str) -> str:
    return email.strip().lower()


def is_exempt(email: str, settings: Settings) -> bool:
    wanted = normal_email(email)
    return any(normal_email(e) == wanted for e in settings.exempt)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _detail(balance: Balance, overdue_only: bool) -> str:
    """The invoices behind the figure, so the client knows what to pay."""
    if balance.overdue_invoices:
        return f" ({_plural(balance.overdue_invoices, 'invoice')} overdue)"
    if balance.open_invoices and not overdue_only:
        return f" ({_plural(balance.open_invoices, 'unpaid invoice')}, none overdue)"
    return ""


def currency_of(balance: Balance | None, settings: Settings) -> str | None:
    """The operator's currency setting, else the books' own."""
    return settings.currency or (balance.currency if balance else None)


def over_reason(counted: Decimal, balance: Balance, settings: Settings) -> str:
    kind = "Overdue" if settings.overdue_only else "Outstanding"
    currency = currency_of(balance, settings)
    amount = money(counted, currency)
    detail = _detail(balance, settings.overdue_only)
    if settings.threshold == ZERO:
        return f"{kind} balance {amount} must be paid before a new booking{detail}"
    limit = money(settings.threshold, currency)
    return f"{kind} balance {amount} exceeds the {limit} limit{detail}"


def stale_reason(counted: Decimal | None, balance: Balance | None, settings: Settings) -> str:
    if balance is None:
        return ("The client's balance cannot be checked right now (no source of balances is "
                "available); new bookings are paused until it can be")
    if counted is not None and counted > settings.threshold:
        return over_reason(counted, balance, settings) + "; the balance could not be confirmed"
    known = money(counted if counted is not None else ZERO, currency_of(balance, settings))
    when = f" as of {balance.as_of:%Y-%m-%d %H:%M} UTC" if balance.as_of else ""
    return (f"The client's balance could not be confirmed (last known {known}{when}); new "
            "bookings are paused until the books are up to date")


def decide(email: str, balance: Balance | None, settings: Settings,
           *, source_available: bool = True) -> Verdict:
    """May the client with this email book?

    ``balance`` is what the balance source said (``None``: it does not know the client, or no
    source answered). ``source_available`` is False when no source of balances is enabled at
    all, which counts as stale: nothing can say what the client owes.
    """
    threshold = settings.threshold
    if balance is None:
        stale = not source_available
        if is_exempt(email, settings) or not stale:
            # A client the books have never seen owes nothing the books know of.
            return Verdict(allowed=True, balance=None if stale else ZERO, threshold=threshold,
                           stale=stale)
        allowed = settings.when_stale == "allow"
        return Verdict(allowed=allowed, reason=None if allowed else stale_reason(None, None,
                       settings), balance=None, threshold=threshold, stale=True)

    counted = balance.overdue if settings.overdue_only else balance.outstanding
    if is_exempt(email, settings):
        return Verdict(allowed=True, balance=counted, threshold=threshold, stale=balance.stale)
    if settings.currency and balance.currency and balance.currency != settings.currency:
        # A threshold in one currency says nothing about a balance in another: the figures
        # can't be trusted until the operator sets the books' currency.
        balance = balance.model_copy(update={"stale": True})
    if balance.stale:
        # Old figures decide nothing on their own: the operator chose what an outage means.
        if settings.when_stale == "allow":
            return Verdict(allowed=True, balance=counted, threshold=threshold, stale=True)
        return Verdict(allowed=False, reason=stale_reason(counted, balance, settings),
                       balance=counted, threshold=threshold, stale=True)
    if counted > threshold:
        return Verdict(allowed=False, reason=over_reason(counted, balance, settings),
                       balance=counted, threshold=threshold)
    return Verdict(allowed=True, balance=counted, threshold=threshold)
