"""Core Table handles for fast queries (the ORM classes stay for schema and simple writes)."""

from __future__ import annotations

from sqlmodel import SQLModel

from dyy_desk.db import models  # noqa: F401 - registers the shared tables; areas import their own

_tables = SQLModel.metadata.tables
app_meta = _tables["app_meta"]
users = _tables["user"]
clients = _tables["client"]
shops = _tables["shop"]
customers = _tables["customer"]
tickets = _tables["ticket"]
ticket_events = _tables["ticket_event"]
ticket_counters = _tables["ticket_counter"]
