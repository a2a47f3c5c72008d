"""What is accepted reads back exactly, on SQLite and PostgreSQL alike: the instant (four-digit
year, the same moment whatever the offset it was sent with), the same Decimal, the same text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.clock import as_utc
from hub.config import load_config
from hub.events import Payment
from hub.queue.worker import run_due
from tests.conftest import base_env
from tests.plugins.recorder import Recorder
from tests.samples import CONTACT

offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(datetime(1900, 1, 1), datetime(2199, 12, 31, 23, 59, 59, 999999)), offsets)
amounts = st.decimals(Decimal("0.01"), Decimal("9999999999999.99"), places=2)
names = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=50
                ).map(str.strip).filter(bool)


def test_accepted_values_read_back_exactly(tmp_path: Path, database_url: str,
                                           make_hub: Any) -> None:
    recorder = Recorder()
    hub = make_hub(("recorder", recorder),
                   cfg=load_config(base_env(tmp_path, database_url), dotenv=False))
    assert not hub.keep_fresh  # so deliveries read what was stored, not a value in memory
    seen = 0

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(occurred=instants, paid=instants, amount=amounts, name=names)
    def accepted(occurred: datetime, paid: datetime, amount: Decimal, name: str) -> None:
        nonlocal seen
        seen += 1
        key = f"evt_{seen}"
        payment = Payment.model_validate({
            "external_id": key, "contact": {**CONTACT, "name": name}, "amount": str(amount),
            "paid_at": paid.isoformat()})
        hub.accept_host_event(key, "payment", as_utc(occurred), payment, key)
        recorder.calls.clear()
        run_due(hub)
        [(_hook, got, ctx)] = recorder.calls
        assert ctx.occurred_at == as_utc(occurred)
        assert got.amount == amount and str(got.amount) == str(amount)
        assert got.paid_at == paid and got.contact.name == name
        view = hub.event(key)
        assert view["occurred_at"] == as_utc(occurred).replace(tzinfo=UTC).isoformat(
            ).replace("+00:00", "Z")

    accepted()
