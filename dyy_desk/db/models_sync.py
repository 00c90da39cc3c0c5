"""Sync bookkeeping tables: per-row field versions, machine state, and what each peer has sent.

The domain tables stay unaware of sync. `sync_row` remembers, per syncing row, the version and a
short hash of every field as last exported or imported, so an export can tell local edits apart
(a field whose hash no longer matches was edited here) without the services stamping anything.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dyy_desk.db.types import UTCDateTime


class SyncRow(SQLModel, table=True):
    __tablename__ = "sync_row"

    table_name: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=36)
    # hash of all field values as last stamped/imported; a mismatch means "edited here since"
    row_hash: int = Field(default=0)
    meta: str  # JSON: {"v": [versions], "f": {field: [version#, base#, masked, hash]}, "d": [v#, b#]}
    # local change counter at the last local edit this row got; 0 if it only ever came in by import
    local_seq: int = Field(default=0, index=True)


class SyncState(SQLModel, table=True):
    """Machine state as key/value text: team, origin id, display name, HLC, sequence numbers."""

    __tablename__ = "sync_state"

    key: str = Field(primary_key=True, max_length=64)
    value: str


class SyncPeer(SQLModel, table=True):
    """Every origin whose bundle was imported here: its name and the all-changes numbers seen."""

    __tablename__ = "sync_peer"

    origin: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    sequences: str = Field(default="[]")  # JSON list of ints
    last_import_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
