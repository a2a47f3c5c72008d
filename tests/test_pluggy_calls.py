"""Hooks other than the per-delivery event hooks are called through pluggy, so pluggy's own
rules hold for a plugin author: the order (last registered first, ``tryfirst``/``trylast``),
``firstresult``, wrappers; each implementation still gets the context of its own plugin; and an
option that cannot apply to an event hook is refused at start, saying why."""

from __future__ import annotations

import types
from decimal import Decimal
from typing import Any

import pytest

from hub import hookimpl
from hub.events import Balance, BookingCheck, Verdict
from hub.plugins.registry import PluginError


def _answering(name: str, calls: list[str], balance: str | None,
               **options: Any) -> types.SimpleNamespace:
    @hookimpl(**options)
    def customer_balance(email: str, ctx: Any) -> Balance | None:
        calls.append(f"{name}:{ctx.plugin}")
        return None if balance is None else Balance(outstanding=Decimal(balance),
                                                    overdue=Decimal(0))

    @hookimpl(**options)
    def check_booking(check: BookingCheck, ctx: Any) -> Verdict | None:
        calls.append(f"{name}:{ctx.plugin}")
        return Verdict(allowed=True, reason=name)

    return types.SimpleNamespace(customer_balance=customer_balance, check_booking=check_booking)


def test_order_and_firstresult_are_pluggys(make_hub) -> None:
    calls: list[str] = []
    hub = make_hub(("early", _answering("early", calls, "5.00", trylast=True)),
                   ("plain", _answering("plain", calls, None)),
                   ("later", _answering("later", calls, "7.00")),
                   ("first", _answering("first", calls, None, tryfirst=True)),
                   )
    found = hub.customer_balance("a@example.com")
    # tryfirst first, then the last registered; firstresult stops at the first answer, so the
    # trylast plugin is never asked. Each sees its own context.
    assert calls == ["first:first", "later:later"]
    assert found is not None and found.outstanding == Decimal("7.00")

    calls.clear()
    verdict = hub.check_booking(BookingCheck(email="a@example.com"))
    assert calls == ["first:first", "later:later", "plain:plain", "early:early"]
    assert verdict.reason == "first"


def test_a_disabled_plugin_is_left_out_of_the_call(make_hub) -> None:
    calls: list[str] = []
    hub = make_hub(("one", _answering("one", calls, "1.00")),
                   ("two", _answering("two", calls, "2.00")))
    hub.states.set_enabled("two", False)
    assert hub.customer_balance("a@example.com").outstanding == Decimal("1.00")
    assert calls == ["one:one"]


def test_a_wrapper_wraps_the_call(make_hub) -> None:
    seen: list[Any] = []

    @hookimpl(wrapper=True)
    def customer_balance(email: str, ctx: Any) -> Any:
        answer = yield
        seen.append((ctx.plugin, answer.outstanding))
        return answer

    hub = make_hub(("answers", _answering("answers", [], "3.00")),
                   ("watcher", types.SimpleNamespace(customer_balance=customer_balance)),
                   )
    assert hub.customer_balance("a@example.com").outstanding == Decimal("3.00")
    assert seen == [("watcher", Decimal("3.00"))]


def test_a_raise_is_no_opinion_and_the_others_still_answer(make_hub, caplog) -> None:
    @hookimpl(tryfirst=True)
    def customer_balance(email: str, ctx: Any) -> Balance | None:
        raise RuntimeError("broken")

    hub = make_hub(("answers", _answering("answers", [], "4.00")),
                   ("broken", types.SimpleNamespace(customer_balance=customer_balance)),
                   )
    assert hub.customer_balance("a@example.com").outstanding == Decimal("4.00")
    assert "plugin broken failed to answer customer_balance" in caplog.text


@pytest.mark.parametrize("option", ["tryfirst", "trylast", "wrapper"])
def test_an_event_hook_option_that_cannot_apply_is_refused_at_start(make_hub, option) -> None:
    if option == "wrapper":
        def on_invoice_sent(invoice: Any, ctx: Any) -> Any:
            yield
    else:
        def on_invoice_sent(invoice: Any, ctx: Any) -> None:
            return None
    plugin = types.SimpleNamespace(on_invoice_sent=hookimpl(**{option: True})(on_invoice_sent))
    with pytest.raises(PluginError, match=f"on_invoice_sent is marked {option}.*each plugin "
                       "gets its own stored delivery"):
        make_hub(("ordered", plugin))


def test_a_wrapper_on_a_per_plugin_contribution_is_refused_at_start(make_hub) -> None:
    """``scheduled`` is asked of each plugin on its own (its own registrar): a wrapper would
    be called as if it were the plugin's answer, so it is refused, saying why."""
    @hookimpl(wrapper=True)
    def scheduled(register: Any, settings: Any) -> Any:
        return (yield)

    with pytest.raises(PluginError, match="scheduled is marked as a wrapper.*asked of each "
                       "plugin on its own"):
        make_hub(("wraps", types.SimpleNamespace(scheduled=scheduled)))


def test_tryfirst_orders_the_per_plugin_contributions(make_hub) -> None:
    from hub.plugins.registry import implementers

    def plugin(**options: Any) -> types.SimpleNamespace:
        @hookimpl(**options)
        def scheduled(register: Any, settings: Any) -> None:
            return None
        return types.SimpleNamespace(scheduled=scheduled)

    hub = make_hub(("early", plugin(tryfirst=True)), ("plain", plugin()),
                   ("late", plugin(trylast=True)))
    found = [p for p in implementers(hub.pm, "scheduled") if p in ("early", "plain", "late")]
    assert found == ["early", "plain", "late"]
