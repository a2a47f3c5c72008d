"""The configuration a test's hub runs on: SQLite in the test's folder, the host's API key and
the header carrying it, quick retries.

Separate because everything else in the kit starts from it: the hubs ``plugin_hub`` makes, the
client sending the key, and the project's own tests (``tests/conftest.py``) use the same.
"""

from __future__ import annotations

from pathlib import Path

API_KEY = "test-key-0123456789"
#: The ``Authorization`` header the host sends, with :data:`API_KEY`.
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def base_env(tmp_path: Path, database_url: str | None = None) -> dict[str, str]:
    """The test configuration: SQLite in ``tmp_path``, the API key, quick retries."""
    return {
        "HUB_DATABASE_URL": database_url or f"sqlite:///{tmp_path}/hub.db",
        "HUB_API_KEY": API_KEY,
        "HUB_SECRET_KEY": "test-secret-key-not-for-production",
        "HUB_RETRY_BASE_SECONDS": "60",
        "HUB_MAX_ATTEMPTS": "4",
        "HUB_POLL_SECONDS": "0.05",
        # The tests' machines are not the place to pay for fsync on every commit.
        "HUB_SQLITE_SYNCHRONOUS": "NORMAL",
    }
