"""Alembic environment: runs against the connection `records.migrate` hands it."""

from alembic import context
from sqlalchemy.engine import Connection

from records.schema import target_metadata

connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
