"""``hub plugins new``: the package it writes declares its entry point, is lint-clean, and its
tests pass as written, run by pytest inside it (the entry point stood in for by HUB_PLUGINS,
so the shared virtualenv is left as it is); a bad name or an existing directory is refused."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.roles.cli import cli


def new(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["plugins", "new", *args])
    return result.exit_code, result.output


def test_the_new_package_declares_its_entry_point_and_its_tests_pass(tmp_path: Path) -> None:
    where = tmp_path / "paid"
    code, output = new("paid_hook", "--dir", str(where))
    assert code == 0, output
    assert f"wrote {where / 'pyproject.toml'}" in output and "pip install -e" in output
    project = tomllib.loads((where / "pyproject.toml").read_text())
    assert project["project"]["name"] == "ledgerline-hub-paid-hook"
    assert project["project"]["entry-points"]["hub.plugins"] == {
        "paid_hook": "ledgerline_hub_paid_hook"}
    assert (where / "README.md").read_text().startswith("# ledgerline-hub-paid-hook")

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HUB_", "QBO_", "PYTEST_"))}
    env.update(PYTHONPATH=str(where), HUB_PLUGINS="paid_hook=ledgerline_hub_paid_hook")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                         cwd=where, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 passed" in run.stdout, run.stdout

    # By its own ruff settings, as its author lints it: the hub a third-party package.
    lint = subprocess.run([str(Path(sys.executable).parent / "ruff"), "check", "."],
                          cwd=where, capture_output=True, text=True, timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_without_dir_it_writes_into_a_folder_of_its_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = new("receipts")
    assert code == 0, output
    assert (tmp_path / "receipts" / "ledgerline_hub_receipts" / "__init__.py").is_file()
    assert (tmp_path / "receipts" / "tests" / "test_receipts.py").is_file()


@pytest.mark.parametrize("name", ["Paid", "paid-hook", "1paid", "class", "", "paid hook",
                                  "a" * 41, "quickbooks", "host_webhooks"])
def test_a_name_that_is_no_plugin_name_is_refused(tmp_path: Path, name: str) -> None:
    code, output = new(name, "--dir", str(tmp_path / "out"))
    assert code == 1, output
    assert ("is not a plugin name" in output) or ("is already installed" in output), output
    assert not (tmp_path / "out").exists()


def test_an_existing_directory_is_refused_and_left_alone(tmp_path: Path) -> None:
    where = tmp_path / "taken"
    where.mkdir()
    (where / "mine.txt").write_text("keep")
    code, output = new("paid_hook", "--dir", str(where))
    assert code == 1
    assert f"{where} already exists" in output and "nothing was written" in output
    assert [p.name for p in where.iterdir()] == ["mine.txt"]
