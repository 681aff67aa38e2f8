"""Alembic's environment for the control database: run by `control.migrate` on a
connection it passes in (`config.attributes["connection"]`)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from cxport.control.db import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Processes starting together migrate one at a time.
        connection.execute(text("SELECT pg_advisory_xact_lock(727274)"))
    context.run_migrations()
