"""Rows ↔ core checklists, inside the caller's transaction (no commit here).

Checklists are read in bulk (four queries for any number of them) because the notifier and the
handover list look at every open checklist at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, Table, insert, select, update
from sqlmodel import SQLModel

from dyy_desk.core.ids import new_id
from dyy_desk.core.sop_checklist import (
    AnchorRecord,
    Checklist,
    EnteredDeadline,
    ProofRef,
    StepNote,
    StepRecord,
    StepStatus,
)
from dyy_desk.core.sop_template import AnchorEvent
from dyy_desk.db import models_sop  # noqa: F401 - registers the SOP tables

_tables = SQLModel.metadata.tables
checklists_t: Table = _tables["sop_checklist"]
steps_t: Table = _tables["sop_step"]
anchors_t: Table = _tables["sop_anchor"]
notes_t: Table = _tables["sop_note"]
proofs_t: Table = _tables["sop_proof"]
notified_t: Table = _tables["sop_notified"]
templates_t: Table = _tables["sop_template"]
settings_t: Table = _tables["sop_setting"]


@dataclass(frozen=True)
class StoredChecklist:
    id: str
    ticket_id: str
    checklist: Checklist
    amount: Decimal | None
    ticket_due_before: datetime | None


def _entered(at: datetime | None, by: str | None, entered_at: datetime | None) -> EnteredDeadline | None:
    if at is None:
        return None
    return EnteredDeadline(at, by or "", entered_at or at)


def load_checklists(
    conn: Connection, *, ticket_ids: Sequence[str] | None = None
) -> dict[str, StoredChecklist]:
    """Live checklists by ticket id (all of them when `ticket_ids` is None)."""
    query = select(checklists_t).where(checklists_t.c.deleted.is_(False))
    if ticket_ids is not None:
        query = query.where(checklists_t.c.ticket_id.in_(list(ticket_ids)))
    heads = conn.execute(query).mappings().all()
    if not heads:
        return {}
    ids = [h["id"] for h in heads]

    def rows(table: Table, *order: str) -> dict[str, list[dict[str, object]]]:
        out: dict[str, list[dict[str, object]]] = defaultdict(list)
        q = select(table).where(table.c.checklist_id.in_(ids), table.c.deleted.is_(False))
        result = conn.execute(q.order_by(*(table.c[o] for o in order)))
        keys = list(result.keys())  # once: per-row RowMapping.keys() is where a native crash was seen
        for values in result:
            row = dict(zip(keys, values, strict=True))
            out[str(row["checklist_id"])].append(row)
        return out

    steps, anchors = rows(steps_t, "position"), rows(anchors_t, "at")
    notes, proofs = rows(notes_t, "at", "id"), rows(proofs_t, "at", "id")
    out: dict[str, StoredChecklist] = {}
    for h in heads:
        cid = str(h["id"])
        records = tuple(_step_record(s, notes[cid], proofs[cid]) for s in steps[cid])
        checklist = Checklist(
            template_id=h["template_id"],
            template_version=h["template_version"],
            started_at=h["started_at"],
            started_by=h["started_by"],
            steps=records,
            anchors=tuple(
                AnchorRecord(AnchorEvent(str(a["event"])), a["at"], str(a["recorded_by"]))  # type: ignore[arg-type]
                for a in anchors[cid]
            ),
        )
        amount = Decimal(h["amount"]) if h["amount"] else None
        out[h["ticket_id"]] = StoredChecklist(cid, h["ticket_id"], checklist, amount, h["ticket_due_before"])
    return out


def _step_record(
    s: dict[str, object], notes: list[dict[str, object]], proofs: list[dict[str, object]]
) -> StepRecord:
    step_id = str(s["step_id"])
    return StepRecord(
        step_id=step_id,
        status=StepStatus(str(s["status"])),
        closed_by=s["closed_by"],  # type: ignore[arg-type]
        closed_at=s["closed_at"],  # type: ignore[arg-type]
        skip_reason=str(s["skip_reason"]),
        notes=tuple(
            StepNote(str(n["text"]), str(n["by"]), n["at"])  # type: ignore[arg-type]
            for n in notes
            if n["step_id"] == step_id
        ),
        proofs=tuple(
            ProofRef(str(p["ref"]), str(p["label"]), str(p["by"]), p["at"])  # type: ignore[arg-type]
            for p in proofs
            if p["step_id"] == step_id
        ),
        platform_deadline=_entered(
            s["platform_deadline"],  # type: ignore[arg-type]
            s["platform_deadline_by"],  # type: ignore[arg-type]
            s["platform_deadline_entered_at"],  # type: ignore[arg-type]
        ),
        manual_deadline=_entered(
            s["manual_deadline"],  # type: ignore[arg-type]
            s["manual_deadline_by"],  # type: ignore[arg-type]
            s["manual_deadline_entered_at"],  # type: ignore[arg-type]
        ),
    )


def insert_checklist(
    conn: Connection,
    *,
    ticket_id: str,
    checklist: Checklist,
    amount: Decimal | None,
    ticket_due_before: datetime | None,
    origin: str,
) -> str:
    checklist_id = new_id()
    conn.execute(
        insert(checklists_t).values(
            id=checklist_id,
            ticket_id=ticket_id,
            template_id=checklist.template_id,
            template_version=checklist.template_version,
            started_at=checklist.started_at,
            started_by=checklist.started_by,
            amount=f"{amount:.2f}" if amount is not None else None,
            ticket_due_before=ticket_due_before,
            origin=origin,
            version="",
            deleted=False,
        )
    )
    for position, record in enumerate(checklist.steps):
        conn.execute(
            insert(steps_t).values(
                id=new_id(),
                checklist_id=checklist_id,
                step_id=record.step_id,
                position=position,
                status=record.status.value,
                skip_reason="",
                origin=origin,
                version="",
                deleted=False,
            )
        )
    for anchor in checklist.anchors:
        save_anchor(conn, checklist_id=checklist_id, anchor=anchor, now=checklist.started_at, origin=origin)
    return checklist_id


def save_step(conn: Connection, *, checklist_id: str, record: StepRecord) -> None:
    """Write a step's status and entered deadlines (notes and proofs are appended separately)."""
    p, m = record.platform_deadline, record.manual_deadline
    conn.execute(
        update(steps_t)
        .where(steps_t.c.checklist_id == checklist_id, steps_t.c.step_id == record.step_id)
        .values(
            status=record.status.value,
            closed_by=record.closed_by,
            closed_at=record.closed_at,
            skip_reason=record.skip_reason,
            platform_deadline=p.at if p else None,
            platform_deadline_by=p.by if p else None,
            platform_deadline_entered_at=p.entered_at if p else None,
            manual_deadline=m.at if m else None,
            manual_deadline_by=m.by if m else None,
            manual_deadline_entered_at=m.entered_at if m else None,
        )
    )


def save_anchor(
    conn: Connection, *, checklist_id: str, anchor: AnchorRecord, now: datetime, origin: str
) -> None:
    """One live row per event: a correction tombstones the old time and records the new one."""
    conn.execute(
        update(anchors_t)
        .where(
            anchors_t.c.checklist_id == checklist_id,
            anchors_t.c.event == anchor.event.value,
            anchors_t.c.deleted.is_(False),
        )
        .values(deleted=True)
    )
    conn.execute(
        insert(anchors_t).values(
            id=new_id(),
            checklist_id=checklist_id,
            event=anchor.event.value,
            at=anchor.at,
            recorded_by=anchor.by,
            recorded_at=now,
            origin=origin,
            version="",
            deleted=False,
        )
    )


def insert_note(conn: Connection, *, checklist_id: str, step_id: str, note: StepNote, origin: str) -> None:
    conn.execute(
        insert(notes_t).values(
            id=new_id(),
            checklist_id=checklist_id,
            step_id=step_id,
            text=note.text,
            by=note.by,
            at=note.at,
            origin=origin,
            version="",
            deleted=False,
        )
    )


def insert_proof(conn: Connection, *, checklist_id: str, step_id: str, proof: ProofRef, origin: str) -> None:
    conn.execute(
        insert(proofs_t).values(
            id=new_id(),
            checklist_id=checklist_id,
            step_id=step_id,
            ref=proof.ref,
            label=proof.label,
            by=proof.by,
            at=proof.at,
            origin=origin,
            version="",
            deleted=False,
        )
    )


def set_amount(conn: Connection, *, checklist_id: str, amount: Decimal | None) -> None:
    conn.execute(
        update(checklists_t)
        .where(checklists_t.c.id == checklist_id)
        .values(amount=f"{amount:.2f}" if amount is not None else None)
    )


def notified_keys(conn: Connection) -> set[tuple[str, str, str]]:
    return {(r.checklist_id, r.step_id, r.state) for r in conn.execute(select(notified_t))}


def mark_notified(conn: Connection, keys: Sequence[tuple[str, str, str]], *, now: datetime) -> None:
    if keys:
        conn.execute(
            insert(notified_t),
            [{"checklist_id": c, "step_id": s, "state": st, "notified_at": now} for c, s, st in keys],
        )
