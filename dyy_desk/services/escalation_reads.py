"""Escalations as the UI shows them: evidence tickets with their numbers, shops and clients, names of
owners and reporters, the history with who did what, and the board read a page at a time."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select

from dyy_desk.core.escalation_model import Escalation, EscalationLevel, EscalationStatus, HistoryKind
from dyy_desk.core.escalation_rules import RuleSet
from dyy_desk.core.types import Role, UserRow
from dyy_desk.db.repos.escalation_queries import escalations, evidence, history
from dyy_desk.db.repos.tables import clients, shops, tickets, users
from dyy_desk.services.escalation_store import load_escalations
from dyy_desk.services.escalation_views import (
    BoardFilter,
    BoardScope,
    BoardSort,
    EscalationRow,
    EvidenceTicket,
    HistoryRow,
)

MANUAL_RULE_NAME = "手动升级"
_CHUNK = 500


def rule_names(rules: RuleSet) -> dict[str, str]:
    return {rule.id: rule.name for rule in rules.rules}


def build_rows(
    conn: Connection, found: Mapping[str, Escalation], names: Mapping[str, str]
) -> list[EscalationRow]:
    """Rows in the order of `found`."""
    ids = list(found)
    extra: dict[str, tuple[str | None, object]] = {}
    evidence_by: dict[str, list[EvidenceTicket]] = {i: [] for i in ids}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for r in conn.execute(
            select(escalations.c.id, escalations.c.raised_by, escalations.c.updated_at).where(
                escalations.c.id.in_(chunk)
            )
        ):
            extra[r.id] = (r.raised_by, r.updated_at)
        for e in conn.execute(
            select(
                evidence.c.escalation_id,
                evidence.c.ticket_id,
                evidence.c.step_id,
                evidence.c.evidence_at,
                tickets.c.number,
                tickets.c.subject,
                tickets.c.client_id,
                tickets.c.shop_id,
                clients.c.name.label("client_name"),
                shops.c.name.label("shop_name"),
            )
            .join(tickets, tickets.c.id == evidence.c.ticket_id)
            .join(clients, clients.c.id == tickets.c.client_id)
            .join(shops, shops.c.id == tickets.c.shop_id)
            .where(evidence.c.escalation_id.in_(chunk), evidence.c.deleted.is_(False))
            .order_by(evidence.c.evidence_at, tickets.c.number)
        ):
            evidence_by[e.escalation_id].append(
                EvidenceTicket(
                    ticket_id=e.ticket_id,
                    number=e.number,
                    subject=e.subject,
                    client_id=e.client_id,
                    client_name=e.client_name,
                    shop_id=e.shop_id,
                    shop_name=e.shop_name,
                    step_id=e.step_id,
                    evidence_at=e.evidence_at,
                )
            )
    people = {r[0]: r[1] for r in conn.execute(select(users.c.id, users.c.name))}
    rows: list[EscalationRow] = []
    for esc in found.values():
        raised_by, updated_at = extra.get(esc.id, (None, None))
        rows.append(
            EscalationRow(
                escalation=esc,
                rule_name=names.get(esc.rule_id, esc.rule_id) if esc.rule_id else MANUAL_RULE_NAME,
                tickets=tuple(evidence_by[esc.id]),
                owner_name=people.get(esc.owner_id) if esc.owner_id else None,
                raised_by=raised_by,
                raised_by_name=people.get(raised_by) if raised_by else None,
                updated_at=updated_at,  # type: ignore[arg-type]
            )
        )
    return rows


def history_rows(conn: Connection, escalation_id: str) -> tuple[HistoryRow, ...]:
    people = {r[0]: r[1] for r in conn.execute(select(users.c.id, users.c.name))}
    return tuple(
        HistoryRow(
            at=r.at,
            actor_name=people.get(r.actor_id) if r.actor_id else None,
            kind=HistoryKind(r.kind),
            text=r.text,
        )
        for r in conn.execute(
            select(history.c.at, history.c.actor_id, history.c.kind, history.c.text)
            .where(history.c.escalation_id == escalation_id, history.c.deleted.is_(False))
            .order_by(history.c.at, history.c.id)
        )
    )


def ids_raised_by(conn: Connection, actor_id: str) -> list[str]:
    return list(
        conn.execute(
            select(escalations.c.id)
            .where(escalations.c.raised_by == actor_id, escalations.c.deleted.is_(False))
            .order_by(escalations.c.created_at.desc())
        ).scalars()
    )


def ids_for_ticket(conn: Connection, ticket_id: str) -> list[str]:
    return list(
        conn.execute(
            select(evidence.c.escalation_id)
            .where(evidence.c.ticket_id == ticket_id, evidence.c.deleted.is_(False))
            .distinct()
        ).scalars()
    )


# --- the board, a page at a time -------------------------------------------------------------------
# Thousands of escalations are open at 100k tickets; the board reads the page on screen, never them all.
def _board_where(board: BoardFilter) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = [
        escalations.c.deleted.is_(False),
        escalations.c.status != EscalationStatus.CLOSED.value,
    ]
    if board.client_id or board.shop_id:
        concerned = (
            select(evidence.c.escalation_id)
            .join(tickets, tickets.c.id == evidence.c.ticket_id)
            .where(evidence.c.deleted.is_(False))
        )
        if board.client_id:
            concerned = concerned.where(tickets.c.client_id == board.client_id)
        if board.shop_id:
            concerned = concerned.where(tickets.c.shop_id == board.shop_id)
        cond.append(escalations.c.id.in_(concerned))
    return cond


def _board_order(sort: BoardSort) -> list[ColumnElement[Any]]:
    """Unanswered escalations by first-response deadline, answered ones after them (their deadline no
    longer counts); the same order the board always had, made total by creation time and id."""
    answered = escalations.c.acknowledged_at.is_not(None)
    due = case((escalations.c.acknowledged_at.is_(None), escalations.c.first_response_due))
    level = escalations.c.level.desc()
    head = [level, answered, due] if sort is BoardSort.LEVEL else [answered, due, level]
    return [*head, escalations.c.created_at, escalations.c.id]


def board_count(conn: Connection, board: BoardFilter) -> int:
    return int(
        conn.execute(select(func.count()).select_from(escalations).where(*_board_where(board))).scalar_one()
    )


def board_ids(conn: Connection, board: BoardFilter, *, offset: int, limit: int) -> list[str]:
    stmt = (
        select(escalations.c.id)
        .where(*_board_where(board))
        .order_by(*_board_order(board.sort))
        .offset(offset)
        .limit(limit)
    )
    return list(conn.execute(stmt).scalars())


def board_scope(conn: Connection) -> BoardScope:
    """Distinct clients and shops of the open escalations' evidence, counted in SQL."""
    rows = conn.execute(
        select(clients.c.name, clients.c.id, shops.c.name, shops.c.id)
        .select_from(evidence)
        .join(escalations, escalations.c.id == evidence.c.escalation_id)
        .join(tickets, tickets.c.id == evidence.c.ticket_id)
        .join(clients, clients.c.id == tickets.c.client_id)
        .join(shops, shops.c.id == tickets.c.shop_id)
        .where(*_board_where(BoardFilter()), evidence.c.deleted.is_(False))
        .distinct()
    ).all()
    return BoardScope(
        clients=tuple(sorted({(r[0], r[1]) for r in rows})),
        shops=tuple(sorted({(r[2], r[3], r[1]) for r in rows})),
    )


def attention_ids(conn: Connection, actor: UserRow, *, managers: Collection[Role]) -> list[str]:
    """Open escalations this person must act on: the ones they own (until resolved) and, for a
    manager, every L2/L3 nobody has answered yet. Most urgent first."""
    mine = and_(escalations.c.owner_id == actor.id, escalations.c.status != EscalationStatus.RESOLVED.value)
    waiting = and_(
        escalations.c.status == EscalationStatus.PENDING.value,
        escalations.c.level >= EscalationLevel.L2.value,
    )
    who = or_(mine, waiting) if actor.role in managers else mine
    stmt = select(escalations.c.id).where(*_board_where(BoardFilter()), who)
    return list(conn.execute(stmt.order_by(*_board_order(BoardSort.LEVEL))).scalars())


def attention_rows(
    conn: Connection, actor: UserRow, names: Mapping[str, str], *, managers: Collection[Role]
) -> list[EscalationRow]:
    """Rows for `attention_ids` without their evidence tickets: an announcement names only the level
    and the reason, and a supervisor may be waited on by thousands of escalations."""
    ids = attention_ids(conn, actor, managers=managers)
    found = load_escalations(conn, ids=ids)
    return [
        EscalationRow(
            escalation=found[i],
            rule_name=names.get(rule, rule) if (rule := found[i].rule_id) else MANUAL_RULE_NAME,
            tickets=(),
        )
        for i in ids
        if i in found
    ]
