"""Alembic environment: always driven programmatically by dyy_desk.db.migrate with a live connection."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import dyy_desk.db.all_models  # noqa: F401 - registers every table on SQLModel.metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables safely
)
with context.begin_transaction():
    context.run_migrations()
