"""What the library service writes to the audit log: a supervisor's edits, imports and every export.

Runs inside the service's transaction. Entries name the entry (kind, id, 编号, client) and count rows;
they never copy an answer or a script body.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from dyy_desk.core.library_rows import LibraryKind
from dyy_desk.services.audit import append_audit


def audit_entry(
    conn: Connection,
    action: str,
    *,
    kind: LibraryKind,
    row: Mapping[Any, Any],
    actor_id: str,
    now: datetime,
) -> None:
    """`action` is library_entry_created / _updated / _deleted; `row` is the stored entry."""
    append_audit(
        conn,
        at=now,
        actor_id=actor_id,
        action=action,
        target=f"library_{kind.value}:{row['id']}",
        details={"kind": kind.value, "external_id": row["external_id"], "client_id": row["client_id"]},
    )


def audit_import(
    conn: Connection,
    *,
    kind: LibraryKind,
    source: str,
    counts: Mapping[str, int],
    clients_created: int,
    actor_id: str,
    now: datetime,
) -> None:
    append_audit(
        conn,
        at=now,
        actor_id=actor_id,
        action="library_import_applied",
        target=f"library_{kind.value}",
        details={"kind": kind.value, "source": source, **counts, "clients_created": clients_created},
    )


def audit_export(
    conn: Connection,
    *,
    kind: LibraryKind,
    client_id: str | None,
    count: int,
    file_name: str,
    actor_id: str | None,
    now: datetime,
) -> None:
    append_audit(
        conn,
        at=now,
        actor_id=actor_id,
        action="library_exported",
        target=f"library_{kind.value}",
        details={"kind": kind.value, "client_id": client_id, "count": count, "file": file_name},
    )
