"""Per-machine sync state inside the caller's transaction: team, origin, HLC, numbers, peers.

Everything lives in `sync_state` (key → text) and `sync_peer`, so it is saved and rolled back with
the export or import that changes it: a cancelled import never advances the clock or a sequence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update
from sqlmodel import SQLModel

from dyy_desk.core.sync.gaps import gap_messages
from dyy_desk.core.sync.hlc import Hlc, HybridClock
from dyy_desk.db import models_sync  # noqa: F401 - registers the sync tables

sync_state = SQLModel.metadata.tables["sync_state"]
sync_peer = SQLModel.metadata.tables["sync_peer"]
sync_row = SQLModel.metadata.tables["sync_row"]


def sync_origin(machine_id: str) -> str:
    """Short origin id for versions (16 hex digits of the machine id's random part): versions
    repeat in every field of every record, so their length is most of a bundle's size."""
    return machine_id.replace("-", "").lower()[-16:]


def team_id_for_key(key: bytes) -> str:
    """The team id is derived from the key, so joining needs only the key text; it reveals nothing."""
    return hashlib.sha256(b"DYY Desk team id v1\x00" + key).hexdigest()[:16]


@dataclass
class MachineState:
    machine_id: str
    origin: str
    team_id: str | None
    name: str
    clock: HybridClock
    next_sequence: int  # number of the next all-changes bundle
    exported_seq: int  # local change counter included in the last all-changes bundle
    local_seq: int  # local change counter; bumped once per stamping run that found edits
    marks: dict[str, int]  # append-only table → last rowid included in an all-changes bundle


def load_state(conn: Connection, machine_id: str) -> MachineState:
    values = {row.key: row.value for row in conn.execute(select(sync_state))}
    origin = sync_origin(machine_id)
    last = values.get("hlc")
    return MachineState(
        machine_id=machine_id,
        origin=origin,
        team_id=values.get("team_id"),
        name=values.get("name") or f"电脑 {origin[:6]}",
        clock=HybridClock(origin, Hlc.parse(last) if last else None),
        next_sequence=int(values.get("next_sequence", "1")),
        exported_seq=int(values.get("exported_seq", "0")),
        local_seq=int(values.get("local_seq", "0")),
        marks={k.removeprefix("mark:"): int(v) for k, v in values.items() if k.startswith("mark:")},
    )


def save_state(conn: Connection, state: MachineState, **extra: str) -> None:
    values = {
        "next_sequence": str(state.next_sequence),
        "exported_seq": str(state.exported_seq),
        "local_seq": str(state.local_seq),
        **{f"mark:{table}": str(mark) for table, mark in state.marks.items()},
        **extra,
    }
    if state.clock.last is not None:
        values["hlc"] = state.clock.last.encode()
    put_values(conn, values)


def put_values(conn: Connection, values: dict[str, str]) -> None:
    for key, value in values.items():
        if conn.execute(update(sync_state).where(sync_state.c.key == key).values(value=value)).rowcount == 0:
            conn.execute(insert(sync_state).values(key=key, value=value))


def get_value(conn: Connection, key: str) -> str | None:
    value = conn.execute(select(sync_state.c.value).where(sync_state.c.key == key)).scalar()
    return None if value is None else str(value)


def set_team(conn: Connection, *, team_id: str, name: str) -> None:
    put_values(conn, {"team_id": team_id, "name": name})


def peer_sequences(conn: Connection) -> tuple[dict[str, list[int]], dict[str, str]]:
    seen: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for row in conn.execute(select(sync_peer)):
        seen[row.origin] = [int(n) for n in json.loads(row.sequences)]
        names[row.origin] = row.name
    return seen, names


def gaps_after(conn: Connection, *, origin: str, name: str, sequence: int) -> list[str]:
    """Gap messages as they will be once this bundle is recorded."""
    seen, names = peer_sequences(conn)
    if sequence > 0:
        seen.setdefault(origin, []).append(sequence)
    names[origin] = name
    return gap_messages(seen, names)


def record_peer(conn: Connection, *, origin: str, name: str, sequence: int, now: datetime) -> None:
    row = conn.execute(select(sync_peer).where(sync_peer.c.origin == origin)).first()
    numbers = set(json.loads(row.sequences)) if row else set()
    if sequence > 0:
        numbers.add(sequence)
    values = {"name": name, "sequences": json.dumps(sorted(numbers)), "last_import_at": now}
    if row:
        conn.execute(update(sync_peer).where(sync_peer.c.origin == origin).values(**values))
    else:
        conn.execute(insert(sync_peer).values(origin=origin, **values))


@contextmanager
def large_page_cache(conn: Connection, kib: int = 64 * 1024) -> Iterator[None]:
    """A bigger SQLite page cache for one bulk export/import on this connection, then the old size.

    Only memory changes: a bundle's transaction touches far more pages than the default 2 MiB
    cache holds, and pages evicted while dirty would be written to the WAL more than once.
    """
    before = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or -2000)
    conn.exec_driver_sql(f"PRAGMA cache_size = {-abs(kib)}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {before}")
