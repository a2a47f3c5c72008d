"""Alembic's entry point: always run by ``hub.db.migrate`` on a connection it hands over."""

from alembic import context
from sqlmodel import SQLModel

import hub.queue.tables  # noqa: F401  (registers the core's tables on the metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    version_table=context.config.attributes.get("version_table", "alembic_version"),
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
