"""The engine, its SQLite settings, and migrations applied at start.

SQLite runs in WAL mode with one writer at a time: every write transaction starts with
``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of failing halfway with
"database is locked". Reads start a plain deferred transaction and never wait for a writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, event, text

from hub.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 7263541  # an arbitrary constant: PostgreSQL advisory lock for migrations


def normalize_url(url: str) -> str:
    # Only psycopg 3 is installed; a plain postgresql:// URL would ask for psycopg2.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(config: Config, **kwargs: Any) -> Engine:
    url = normalize_url(config.database_url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _sqlite_setup(engine, config.sqlite_synchronous)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


def _sqlite_setup(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so we can say BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Straight to the driver: every transaction starts here, and SQLAlchemy's execution
        # machinery costs more than the statement.
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("BEGIN" if conn.get_execution_options().get("hub_read")
                       else "BEGIN IMMEDIATE")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction: never takes SQLite's write lock."""
    with engine.connect() as conn:
        conn = conn.execution_options(hub_read=True)
        with conn.begin():
            yield conn


def migrate(engine: Engine, plugin_locations: dict[str, Path] | None = None) -> None:
    """Bring the core's and every plugin's tables to their newest revision.

    Each plugin's revisions are tracked in a version table of its own, so plugins migrate
    independently and an uninstalled plugin's history never stops the hub from starting.
    """
    chains = [("alembic_version", MIGRATIONS / "versions")]
    chains += [(f"alembic_version_{name}", path)
               for name, path in sorted((plugin_locations or {}).items())]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Several processes starting at once: one migrates, the others wait and find it done.
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        for version_table, location in chains:
            cfg = AlembicConfig()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.set_main_option("path_separator", "os")
            cfg.set_main_option("version_locations", str(location))
            cfg.attributes["connection"] = conn
            cfg.attributes["version_table"] = version_table
            command.upgrade(cfg, "heads")
