"""Where Intuit leaves a client to cope: which changes a full CDC answer drops, reads past the
month's allowance, and requests QuickBooks is slow to carry out."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from freezegun import freeze_time

from hub.builtin.quickbooks.emulator.clock import now
from hub.builtin.quickbooks.emulator.testing import Emulator

from .conftest import Api


@pytest.mark.parametrize("keeps", ["oldest", "newest"])
def test_a_full_cdc_answer_keeps_the_oldest_or_the_newest_changes(emulator: Emulator,
                                                                  keeps: str) -> None:
    with freeze_time("2026-05-01 09:00:00") as clock:
        api = Api(emulator, emulator.connect()["access_token"])
        start = now().isoformat()
        emulator.set_limits(batch_per_minute=100)
        for b in range(34):  # 1,020 customers, a second apart batch by batch
            clock.tick(timedelta(seconds=1))
            batch = [{"bId": str(n), "operation": "create",
                      "Customer": {"DisplayName": f"Bulk {b:02}-{n:02}"}} for n in range(30)]
            assert api.post("batch", {"BatchItemRequest": batch}).status_code == 200
        assert requests.post(emulator.base_url + "/_emulator/cdc", json={"keeps": keeps},
                             timeout=5).json() == {"keeps": keeps}
        answer = api.get("cdc", entities="Customer", changedSince=start).json()
        found = answer["CDCResponse"][0]["QueryResponse"][0]["Customer"]
        assert len(found) == 1000
        # The demo's own customers were made when the emulator started, "later" than May.
        seeded = len(found) - len([c for c in found if c["DisplayName"].startswith("Bulk")])
        names = sorted(c["DisplayName"] for c in found if c["DisplayName"].startswith("Bulk"))
        every = sorted(f"Bulk {b:02}-{n:02}" for b in range(34) for n in range(30))
        assert names == (every[:1000] if keeps == "oldest" else every[20 + seeded:])
        api.http.close()


def test_reads_past_the_months_allowance_are_refused_until_the_month_ends(
    emulator: Emulator,
) -> None:
    with freeze_time("2026-05-31 23:30:00") as clock:
        api = Api(emulator, emulator.connect()["access_token"])
        limits = requests.post(emulator.base_url + "/_emulator/limits",
                               json={"reads_per_month": 4}, timeout=5).json()
        assert limits["reads_per_month"] == 4
        assert api.get("preferences").status_code == 200  # a read
        assert api.query("SELECT * FROM Customer").status_code == 200  # a read
        queries = {"BatchItemRequest": [{"bId": "a", "Query": "SELECT * FROM Item"},
                                        {"bId": "b", "Query": "SELECT * FROM Account"}]}
        assert api.post("batch", queries).status_code == 200  # two reads
        assert emulator.reads()["used"] == 4
        refused = api.get("customer/1")
        assert refused.status_code == 429
        assert refused.json()["Fault"]["Error"][0]["code"] == "3001"
        assert api.post("batch", queries).status_code == 429
        # Writes are not metered: they go on.
        made = api.post("customer", {"DisplayName": "Written Anyway"})
        assert made.status_code == 200
        assert requests.get(emulator.base_url + "/_emulator/reads", timeout=5).json() == {
            "month": "2026-05", "used": 4, "allowance": 4}
        clock.tick(timedelta(minutes=31))  # June
        assert api.get("customer/1").status_code == 200
        assert emulator.reads() == {"month": "2026-06", "used": 1, "allowance": 4}
        emulator.reads(used=4)
        assert api.query("SELECT * FROM Customer").status_code == 429
        api.http.close()


def test_the_next_call_to_an_endpoint_can_be_slow(emulator: Emulator, api: Api) -> None:
    answer = requests.post(emulator.base_url + "/_emulator/delay",
                           json={"seconds": 0.3, "only": "customer"}, timeout=5)
    assert answer.json() == {"ok": True}
    assert api.get("preferences").status_code == 200  # not that endpoint: not delayed
    started = time.monotonic()
    assert api.post("customer", {"DisplayName": "Slow To Save"}).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert api.post("customer", {"DisplayName": "Quick To Save"}).status_code == 200
    assert time.monotonic() - started < 0.3  # only the next one
