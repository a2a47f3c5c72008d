"""The decision on its own: each rule, the reason text, and money as the client reads it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.builtin.booking_gate.rules import decide, money
from hub.builtin.booking_gate.settings import Settings
from tests.booking_gate.ledger import owing


def settings(**values: Any) -> Settings:
    return Settings.model_validate({"threshold": "100.00", **values})


@pytest.mark.parametrize(("outstanding", "allowed"), [
    ("99.99", True), ("100.00", True), ("100.01", False), ("0.00", True),
])
def test_refused_only_when_the_balance_exceeds_the_threshold(outstanding: str,
                                                             allowed: bool) -> None:
    verdict = decide("a@example.com", owing(outstanding), settings())
    assert verdict.allowed is allowed
    assert verdict.balance == Decimal(outstanding)
    assert verdict.threshold == Decimal("100.00")
    assert (verdict.reason is None) is allowed
    assert verdict.stale is False


def test_a_zero_threshold_refuses_any_debt_and_says_it_must_be_paid() -> None:
    verdict = decide("a@example.com", owing("0.01"), settings(threshold="0.00",
                                                               currency="USD"))
    assert not verdict.allowed
    assert verdict.reason == "Outstanding balance $0.01 must be paid before a new booking " \
        "(1 unpaid invoice, none overdue)"
    assert decide("a@example.com", owing("0.00", open_invoices=0),
                  settings(threshold="0.00")).allowed


def test_overdue_only_counts_only_overdue_invoices() -> None:
    balance = owing("500.00", overdue="60.00", open_invoices=3, overdue_invoices=1)
    assert not decide("a@example.com", balance, settings()).allowed
    verdict = decide("a@example.com", balance, settings(overdue_only=True))
    assert verdict.allowed and verdict.balance == Decimal("60.00")
    verdict = decide("a@example.com", owing("500.00", overdue="130.00", overdue_invoices=2),
                     settings(overdue_only=True, currency="USD"))
    assert not verdict.allowed
    assert verdict.reason == "Overdue balance $130.00 exceeds the $100.00 limit " \
        "(2 invoices overdue)"


def test_exempt_emails_are_always_allowed_whatever_their_case_or_spaces() -> None:
    rules = settings(exempt=[" VIP@Example.com ", "other@example.com"])
    verdict = decide("vip@example.COM ", owing("900.00"), rules)
    assert verdict.allowed and verdict.reason is None
    assert verdict.balance == Decimal("900.00")  # the figure is still shown
    assert decide("vip@example.com", owing("900.00", stale=True),
                  rules.model_copy(update={"when_stale": "refuse"})).allowed
    assert not decide("else@example.com", owing("900.00"), rules).allowed


def test_a_client_the_books_do_not_know_is_allowed() -> None:
    verdict = decide("new@example.com", None, settings(threshold="0.00", when_stale="refuse"))
    assert verdict.allowed and verdict.balance == Decimal("0.00") and not verdict.stale


def test_stale_balances_are_allowed_by_default_and_say_so() -> None:
    verdict = decide("a@example.com", owing("900.00", stale=True), settings())
    assert verdict.allowed and verdict.stale and verdict.reason is None
    assert verdict.balance == Decimal("900.00")


def test_stale_balances_are_refused_when_the_operator_says_so() -> None:
    rules = settings(when_stale="refuse", currency="USD")
    over = decide("a@example.com", owing("130.00", overdue="130.00", overdue_invoices=1,
                                         stale=True), rules)
    assert not over.allowed and over.stale
    assert over.reason == "Outstanding balance $130.00 exceeds the $100.00 limit " \
        "(1 invoice overdue); the balance could not be confirmed"
    under = owing("20.00", stale=True).model_copy(update={"as_of": datetime(2026, 11, 24, 3)})
    verdict = decide("a@example.com", under, rules)
    assert not verdict.allowed and verdict.stale
    assert verdict.reason == "The client's balance could not be confirmed (last known $20.00 " \
        "as of 2026-11-24 03:00 UTC); new bookings are paused until the books are up to date"


def test_no_balance_source_at_all_is_stale() -> None:
    allowed = decide("a@example.com", None, settings(), source_available=False)
    assert allowed.allowed and allowed.stale and allowed.balance is None
    refused = decide("a@example.com", None, settings(when_stale="refuse"),
                     source_available=False)
    assert not refused.allowed and refused.stale
    assert refused.reason is not None and "cannot be checked" in refused.reason


def test_the_reason_names_the_figures_the_client_can_act_on() -> None:
    verdict = decide("a@example.com", owing("130.00", overdue="65.00", open_invoices=2,
                                            overdue_invoices=1), settings(currency="USD"))
    assert verdict.reason == "Outstanding balance $130.00 exceeds the $100.00 limit " \
        "(1 invoice overdue)"
    plain = decide("a@example.com", owing("1300.00", open_invoices=2), settings())
    assert plain.reason == "Outstanding balance 1,300.00 exceeds the 100.00 limit " \
        "(2 unpaid invoices, none overdue)"


def test_without_a_currency_setting_the_books_currency_is_shown() -> None:
    pounds = owing("130.00").model_copy(update={"currency": "GBP"})
    verdict = decide("a@example.com", pounds, settings())
    assert verdict.reason is not None
    assert verdict.reason.startswith("Outstanding balance £130.00 exceeds the £100.00 limit")


def test_a_balance_in_another_currency_than_the_threshold_is_not_compared() -> None:
    # 130 Canadian dollars against a 100 US dollar limit: neither "over" nor "under" is true.
    dollars = owing("130.00").model_copy(update={"currency": "CAD"})
    allowed = decide("a@example.com", dollars, settings(currency="USD"))
    assert allowed.allowed and allowed.stale
    refused = decide("a@example.com", dollars, settings(currency="USD", when_stale="refuse"))
    assert not refused.allowed and refused.stale
    same = decide("a@example.com", dollars, settings(currency="CAD"))
    assert not same.allowed and not same.stale
    assert same.reason is not None and same.reason.startswith("Outstanding balance CA$130.00")


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    ("130", "USD", "$130.00"),
    ("1300.5", "USD", "$1,300.50"),
    ("130", None, "130.00"),
    ("130", "GBP", "£130.00"),
    ("130", "EUR", "€130.00"),
    ("130", "CAD", "CA$130.00"),
    ("130", "CHF", "130.00 CHF"),
    ("13000", "JPY", "¥13,000"),
    ("-5", "USD", "-$5.00"),
])
def test_money_is_shown_in_the_books_currency(amount: str, currency: str | None,
                                              shown: str) -> None:
    assert money(Decimal(amount), currency) == shown


def test_currency_setting_accepts_empty_and_lowercase() -> None:
    assert settings(currency="").currency is None
    assert settings(currency="usd").currency == "USD"
    with pytest.raises(ValueError):
        settings(currency="dollars")
    with pytest.raises(ValueError):
        settings(when_stale="maybe")


cents = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False,
                    allow_infinity=False)


@given(outstanding=cents, overdue=cents, threshold=cents, overdue_only=st.booleans(),
       stale=st.booleans(), refuse_stale=st.booleans())
def test_the_verdict_follows_the_counted_balance(outstanding: Decimal, overdue: Decimal,
                                                 threshold: Decimal, overdue_only: bool,
                                                 stale: bool, refuse_stale: bool) -> None:
    rules = Settings(threshold=threshold, overdue_only=overdue_only,
                     when_stale="refuse" if refuse_stale else "allow")
    balance = owing(str(outstanding), str(overdue), stale=stale)
    verdict = decide("a@example.com", balance, rules)
    counted = overdue if overdue_only else outstanding
    assert verdict.balance == counted and verdict.stale is stale
    expected = (not refuse_stale) if stale else counted <= threshold
    assert verdict.allowed is expected
    assert (verdict.reason is None) is verdict.allowed
