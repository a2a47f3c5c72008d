"""Where a generated ``HUB_SECRET_KEY`` is kept, and making it once.

Separate from ``hub/config.py`` because it is the one part of reading the configuration that
writes: a file, made once with mode 600 and shared by every process on the same data.
``hub/roles/serve.py`` asks it too, to say at start where the key was made.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def secret_key_file(database_url: str, chosen: str | None = None) -> Path:
    """Where a generated ``HUB_SECRET_KEY`` lives: ``HUB_SECRET_KEY_FILE`` if set, else beside
    an SQLite file, else in the cwd."""
    if chosen:
        return Path(chosen).expanduser()
    if database_url.startswith("sqlite:///") and database_url != "sqlite:///:memory:":
        return Path(database_url.removeprefix("sqlite:///") + ".secret")
    return Path("hub.secret")


def generated_secret(path: Path) -> str:
    """The key kept at ``path``, made there first if there is none."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must agree on one key, not each write its own.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key
