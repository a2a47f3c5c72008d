"""How the pages show an instant: how long ago, the exact minute and zone on hover, never
microseconds (``hub.ui.when``, the ``ui_when`` filter)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from freezegun import freeze_time

from hub.ui import when

NOW = datetime(2026, 3, 28, 15, 4, 5, 987654)


@freeze_time(NOW)
def test_an_instant_reads_as_how_long_ago_with_the_exact_minute_on_hover() -> None:
    shown = when(NOW - timedelta(minutes=2, seconds=3, microseconds=500))
    assert str(shown) == ('<time datetime="2026-03-28T15:02:02Z" title="2026-03-28 15:02 UTC">'
                          "2 minutes ago</time>")
    assert "just now</time>" in when(NOW)
    assert "in 58 minutes</time>" in when(NOW + timedelta(minutes=58))
    assert "in 1 hour</time>" in when(NOW + timedelta(minutes=59, seconds=50))
    assert "in under a minute</time>" in when(NOW + timedelta(seconds=20))
    assert "100 days ago</time>" in when(NOW - timedelta(days=100))
    aware = datetime(2026, 3, 28, 5, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert 'title="2026-03-28 10:00 UTC">5 hours ago' in when(aware)
    assert str(when(None)) == ""
