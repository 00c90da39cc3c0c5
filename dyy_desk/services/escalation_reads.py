"""Escalations as the UI shows them: evidence tickets with their numbers, shops and clients, names of
owners and reporters, and the history with who did what."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, select

from dyy_desk.core.escalation_model import Escalation, HistoryKind
from dyy_desk.core.escalation_rules import RuleSet
from dyy_desk.db.repos.escalation_queries import escalations, evidence, history
from dyy_desk.db.repos.tables import clients, shops, tickets, users
from dyy_desk.services.escalation_views import EscalationRow, EvidenceTicket, HistoryRow

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
