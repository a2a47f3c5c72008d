"""Rules of the house a reader relies on, checked over the project's own files."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {"hub", "tests", "bench", "scripts", "examples"}


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py")
                  if ".venv" not in p.parts)


def _imports(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def test_built_in_plugins_reach_the_hub_through_their_context_alone() -> None:
    inner = ("hub.hub", "hub.queue", "hub.web", "hub.roles.cli.pass_hub",
             "hub.roles.command_context.pass_hub", "hub.plugins.registry",
             "hub.plugins.states")
    reaching = []
    for path in _python_files("hub/builtin") + [ROOT / "hub" / "host_webhooks.py"]:
        text = path.read_text()
        if "ctx.hub" in text:
            reaching.append(f"{path.relative_to(ROOT)}: ctx.hub")
        reaching += [f"{path.relative_to(ROOT)}: {name}" for name in _imports(path)
                     if name.startswith(inner)]
    assert reaching == []


def test_the_core_imports_no_built_in_plugin() -> None:
    # The core knows no plugin: the built-ins are found through the entry point like anyone's.
    core = [p for p in _python_files("hub") if "builtin" not in p.relative_to(ROOT).parts]
    naming = [f"{path.relative_to(ROOT)}: {name}" for path in core for name in _imports(path)
              if name.startswith("hub.builtin")]
    assert naming == []


def _private_part(name: str) -> str | None:
    """The first part of a dotted name that is private (``_name``), dunders such as
    ``__main__`` and ``__future__`` aside."""
    for part in name.split("."):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return part
    return None


def test_no_file_imports_a_private_module_of_another_distribution() -> None:
    # A private module (granian._granian, granian._futures) changes in any release without
    # notice; leaning on one pins the dependency exactly and breaks on the next upgrade. A name
    # imported from another distribution (``from x import _y``) is held to the same rule, as it
    # may be a module or an attribute and is private either way. Our own packages may share
    # their private parts with each other.
    leaning = [f"{path.relative_to(ROOT)}: {name}"
               for path in _python_files(*sorted(OURS)) for name in _imports(path)
               if name.split(".")[0] not in OURS and _private_part(name)]
    assert leaning == []


#: What of the hub a plugin may import, as docs/plugins.md lists it.
PLUGIN_SURFACE = ("hub.hookimpl", "hub.Context", "hub.JobRegistrar", "hub.HOOKS_VERSION",
                  "hub.events", "hub.errors", "hub.clock",
                  "hub.bounds", "hub.config.Config", "hub.reports", "hub.undo",
                  # The page helpers, not the UI's own modules (hub.ui.queries, hub.ui.auth).
                  "hub.ui.csrf_exempt", "hub.ui.csrf_field", "hub.ui.operator_only",
                  "hub.ui.plugin_context", "hub.ui.when",
                  "hub.roles.cli.pass_context")


def test_built_in_plugins_import_only_what_the_plugin_guide_allows() -> None:
    beyond = []
    for path in _python_files("hub/builtin"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("hub.") and not name.startswith("hub.builtin") and not any(
                        name == allowed or name.startswith(allowed + ".")
                        for allowed in PLUGIN_SURFACE):
                    beyond.append(f"{path.relative_to(ROOT)}: {name}")
    assert beyond == []
