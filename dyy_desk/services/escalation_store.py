"""Escalations to and from rows, inside the caller's transaction (no commit here).

`write_transition` is the one way a lifecycle step or rule action reaches the database: it saves the
escalation, adds new evidence rows, appends the history line, records consumed evidence on close, and
appends a "flag" event to the timeline of every ticket the step concerns.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from dyy_desk.core.escalation_lifecycle import Transition
from dyy_desk.core.escalation_model import (
    ClosedEvidence,
    Escalation,
    EscalationLevel,
    EscalationStatus,
    EvidenceRef,
    FollowUp,
    HistoryKind,
    PostMortem,
)
from dyy_desk.core.ids import new_id
from dyy_desk.core.types import EventKind, Role, UserRow
from dyy_desk.db.repos import ticket_writes
from dyy_desk.db.repos.escalation_queries import closed, escalations, evidence, history
from dyy_desk.db.repos.tables import users
from dyy_desk.services.errors import NotFound

_CHUNK = 500


def _sync(origin: str) -> dict[str, Any]:
    return {"origin": origin, "version": "", "deleted": False}


def load_actor(conn: Connection, actor_id: str) -> UserRow:
    row = conn.execute(select(users.c.id, users.c.name, users.c.role).where(users.c.id == actor_id)).first()
    if row is None:
        raise NotFound("当前用户不存在，请在右上角重新选择")
    return UserRow(id=row.id, name=row.name, role=Role(row.role))


def _from_row(row: Mapping[str, Any], refs: Collection[EvidenceRef]) -> Escalation:
    post_mortem = None
    if row["pm_cause"] is not None:
        post_mortem = PostMortem(row["pm_cause"], row["pm_impact"], row["pm_actions"], row["pm_prevention"])
    follow_up = None
    if row["follow_up_at"] is not None:
        follow_up = FollowUp(
            row["follow_up_at"], bool(row["follow_up_satisfied"]), row["follow_up_note"] or ""
        )
    return Escalation(
        id=row["id"],
        rule_id=row["rule_id"],
        group_key=row["group_key"],
        level=EscalationLevel(row["level"]),
        status=EscalationStatus(row["status"]),
        reason=row["reason"],
        created_at=row["created_at"],
        first_response_from=row["first_response_from"],
        first_response_due=row["first_response_due"],
        evidence=frozenset(refs),
        owner_id=row["owner_id"],
        acknowledged_at=row["acknowledged_at"],
        resolved_at=row["resolved_at"],
        closed_at=row["closed_at"],
        level_set_by_hand=bool(row["level_set_by_hand"]),
        post_mortem=post_mortem,
        follow_up=follow_up,
    )


def load_escalations(
    conn: Connection, *, ids: Collection[str] | None = None, open_only: bool = False
) -> dict[str, Escalation]:
    """Escalations with their evidence, keyed by id; `ids` None means all (optionally only open ones)."""
    stmt = select(escalations).where(escalations.c.deleted.is_(False))
    if open_only:
        stmt = stmt.where(escalations.c.status != EscalationStatus.CLOSED.value)
    rows: list[Any] = []
    if ids is None:
        rows = list(conn.execute(stmt).mappings())
    else:
        ordered = sorted(set(ids))
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            rows += conn.execute(stmt.where(escalations.c.id.in_(chunk))).mappings()
    refs: dict[str, set[EvidenceRef]] = {r["id"]: set() for r in rows}
    wanted = list(refs)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for e in conn.execute(
            select(evidence.c.escalation_id, evidence.c.ticket_id, evidence.c.step_id).where(
                evidence.c.escalation_id.in_(chunk), evidence.c.deleted.is_(False)
            )
        ):
            refs[e.escalation_id].add(EvidenceRef(e.ticket_id, e.step_id))
    return {r["id"]: _from_row(r, refs[r["id"]]) for r in rows}


def load_one(conn: Connection, escalation_id: str) -> Escalation:
    found = load_escalations(conn, ids=[escalation_id]).get(escalation_id)
    if found is None:
        raise NotFound("升级记录不存在或已被删除")
    return found


def load_closed(conn: Connection) -> list[ClosedEvidence]:
    grouped: dict[tuple[str, str, int], set[EvidenceRef]] = {}
    for r in conn.execute(
        select(
            closed.c.escalation_id, closed.c.rule_id, closed.c.level, closed.c.ticket_id, closed.c.step_id
        ).where(closed.c.deleted.is_(False))
    ):
        grouped.setdefault((r.escalation_id, r.rule_id, r.level), set()).add(
            EvidenceRef(r.ticket_id, r.step_id)
        )
    return [
        ClosedEvidence(rule_id, EscalationLevel(level), frozenset(refs))
        for (_esc, rule_id, level), refs in grouped.items()
    ]


def _columns(esc: Escalation) -> dict[str, Any]:
    pm, fu = esc.post_mortem, esc.follow_up
    return {
        "rule_id": esc.rule_id,
        "group_key": esc.group_key,
        "level": int(esc.level),
        "status": esc.status.value,
        "reason": esc.reason,
        "created_at": esc.created_at,
        "first_response_from": esc.first_response_from,
        "first_response_due": esc.first_response_due,
        "owner_id": esc.owner_id,
        "acknowledged_at": esc.acknowledged_at,
        "resolved_at": esc.resolved_at,
        "closed_at": esc.closed_at,
        "level_set_by_hand": esc.level_set_by_hand,
        "pm_cause": pm.cause if pm else None,
        "pm_impact": pm.impact if pm else None,
        "pm_actions": pm.actions if pm else None,
        "pm_prevention": pm.prevention if pm else None,
        "follow_up_at": fu.contacted_at if fu else None,
        "follow_up_satisfied": fu.satisfied if fu else None,
        "follow_up_note": fu.note if fu else None,
    }


def write_transition(
    conn: Connection,
    before: Escalation | None,
    done: Transition,
    *,
    now: datetime,
    origin: str,
    raised_by: str | None = None,
    evidence_at: Mapping[EvidenceRef, datetime] | None = None,
) -> tuple[str, ...]:
    """Persist one step; returns the ticket ids whose timeline got an event."""
    esc, entry = done.escalation, done.entry
    if before is None:
        conn.execute(
            insert(escalations).values(
                id=esc.id, raised_by=raised_by, updated_at=now, **_columns(esc), **_sync(origin)
            )
        )
    else:
        conn.execute(
            update(escalations).where(escalations.c.id == esc.id).values(updated_at=now, **_columns(esc))
        )
    added = sorted(esc.evidence - (before.evidence if before else frozenset()))
    if added:
        at = evidence_at or {}
        conn.execute(
            insert(evidence),
            [
                {
                    "id": new_id(),
                    "escalation_id": esc.id,
                    "ticket_id": ref.ticket_id,
                    "step_id": ref.step_id,
                    "evidence_at": at.get(ref),
                    "added_at": now,
                    **_sync(origin),
                }
                for ref in added
            ],
        )
    conn.execute(
        insert(history).values(
            id=new_id(),
            escalation_id=esc.id,
            at=entry.at,
            actor_id=entry.actor_id,
            kind=entry.kind.value,
            text=entry.text,
            from_status=entry.from_status.value if entry.from_status else None,
            to_status=entry.to_status.value if entry.to_status else None,
            from_level=int(entry.from_level) if entry.from_level else None,
            to_level=int(entry.to_level) if entry.to_level else None,
            evidence=json.dumps([[r.ticket_id, r.step_id] for r in entry.evidence]) if entry.evidence else "",
            **_sync(origin),
        )
    )
    consumed = esc.closed_evidence() if esc.status is EscalationStatus.CLOSED else None
    if consumed is not None and (before is None or before.status is not EscalationStatus.CLOSED):
        conn.execute(
            insert(closed),
            [
                {
                    "id": new_id(),
                    "escalation_id": esc.id,
                    "rule_id": consumed.rule_id,
                    "level": int(consumed.level),
                    "ticket_id": ref.ticket_id,
                    "step_id": ref.step_id,
                    **_sync(origin),
                }
                for ref in sorted(consumed.evidence)
            ],
        )
    # the timeline: new evidence tells only the tickets that joined; every other step tells them all
    refs = added if entry.kind is HistoryKind.EVIDENCE else sorted(esc.evidence)
    ticket_ids = tuple(dict.fromkeys(ref.ticket_id for ref in refs))
    for ticket_id in ticket_ids:
        ticket_writes.append_event(
            conn,
            ticket_id=ticket_id,
            kind=EventKind.FLAG,
            at=entry.at,
            actor_id=entry.actor_id,
            text=f"升级 {esc.level.code}：{entry.text}",
            data={"escalation_id": esc.id, "kind": entry.kind.value},
            origin=origin,
        )
    return ticket_ids
