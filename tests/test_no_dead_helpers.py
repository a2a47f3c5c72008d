"""No private helper of the hub is left unused: a module-level ``_function`` or ``_Class`` no code
of ``hub/`` names again is dead weight that drifts from the one still used (as api.py's copy of
the front door's error list did). Decorated ones are left out: the decorator is their use (a
Flask route, a before-request hook)."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

HUB = Path(__file__).resolve().parent.parent / "hub"


def test_every_private_helper_is_used() -> None:
    sources = {path: path.read_text() for path in sorted(HUB.rglob("*.py"))}
    named = Counter(re.findall(r"\b_\w+", "\n".join(sources.values())))
    unused = []
    for path, source in sources.items():
        for node in ast.parse(source).body:
            if (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                    and node.name.startswith("_") and not node.name.startswith("__")
                    and not node.decorator_list
                    and named[node.name] < 2):
                unused.append(f"{path.relative_to(HUB.parent)}:{node.lineno} {node.name}")
    assert not unused, f"defined and never used: {unused}"
