"""docs/architecture.md walks one event through the project's files: each file it names must
be there, so the walk stays true as files move."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_file_the_walk_names_exists() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`((?:hub|plugins|tests|docs)/[\w./-]*)`", text))
    assert len(named) > 20
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert missing == [], f"docs/architecture.md names files that are gone: {missing}"
