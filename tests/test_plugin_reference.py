"""docs/plugins.md holds the plugin reference generated from the code's docstrings
(``hub.plugins.reference``): this fails when the two disagree, saying how to regenerate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hub.plugins import hookspecs
from hub.plugins.context import Context
from hub.plugins.reference import BEGIN, END, reference, with_reference

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


def test_the_docs_hold_the_reference_the_code_generates() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1, "the reference markers are gone"
    assert with_reference(text) == text, (
        "docs/plugins.md's reference differs from the code's docstrings: regenerate it with "
        "python -c 'from pathlib import Path; from hub.plugins.reference import with_reference; "
        "p = Path(\"docs/plugins.md\"); p.write_text(with_reference(p.read_text()))'")


def test_every_hook_and_every_public_part_of_context_is_in_it() -> None:
    text = reference()
    for name, function in vars(hookspecs).items():
        if getattr(function, "hub_spec", None) is not None:
            assert f"### `{name}(" in text, name
    for name in vars(Context):
        if not name.startswith("_"):
            assert f"`ctx.{name}" in text or f"| `{name}` |" in text, name
    for model in ("Contact", "Invoice", "Payment", "Booking", "BookingCheck", "Verdict",
                  "Balance"):
        assert f"### `{model}`" in text
    for word in ("RetryLater", "Hold", "Skip", "NeedsOperator", "pending", "running", "done",
                 "waiting", "skipped", "dead", "failed", "SecretStr", "ENABLED_BY_DEFAULT",
                 "HUB_REQUIRES", "NEEDS"):
        assert word in text, word
    # No field of an event value or Context goes undescribed.
    assert "|  |" not in text


def test_the_module_prints_it() -> None:
    printed = subprocess.run([sys.executable, "-m", "hub.plugins.reference"], check=True,
                             capture_output=True, text=True).stdout
    assert printed == reference()
