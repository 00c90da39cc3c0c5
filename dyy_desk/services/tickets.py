"""Ticket use cases: each public method is one transaction and returns DTOs plus what changed."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select, update

from dyy_desk.core.changes import Changes
from dyy_desk.core.clock import Clock
from dyy_desk.core.ids import new_id
from dyy_desk.core.masking import mask_address, mask_phone
from dyy_desk.core.queue_index import QueueIndex
from dyy_desk.core.ticket_input import NewTicket, TicketInputError, validate_new_ticket
from dyy_desk.core.ticket_query import TicketQuery
from dyy_desk.core.ticket_states import check_transition, is_reopen
from dyy_desk.core.types import (
    STATUS_LABELS,
    EventKind,
    TicketDetail,
    TicketEventRow,
    TicketRow,
    TicketStatus,
)
from dyy_desk.db.repos import queue_sql, ticket_queries, ticket_writes
from dyy_desk.db.repos.tables import customers, shops, ticket_events, tickets, users
from dyy_desk.services.errors import NotFound, ServiceError


@dataclass(frozen=True)
class QueuePage:
    ids: list[str]
    total: int
    complete: bool


class TicketService:
    """Owns the queue index: loaded on first use, patched after every write made through here.

    Threading contract: the index is guarded by a lock, so the GUI's single database worker and tests
    may call in from any thread; whoever writes tickets elsewhere (imports) calls `invalidate_queue`.
    """

    def __init__(self, *, engine: Engine, clock: Clock, origin: str) -> None:
        self._engine = engine
        self._clock = clock
        self._origin = origin
        self._queue: QueueIndex | None = None
        self._queue_lock = threading.Lock()

    # --- reads -------------------------------------------------------------------------------
    def query_ids(self, *, query: TicketQuery) -> list[str]:
        with self._queue_lock:
            index = self._queue_index()
            if query.text.strip():
                self._load_texts(index)
            return index.query(query, now=self._clock.now())

    def query_page(self, *, query: TicketQuery, limit: int) -> QueuePage:
        """The whole answer once the index is loaded; before that, the first `limit` rows from SQL
        (indexed, a few ms) so the queue shows at once, with `complete=False`."""
        with self._queue_lock:
            if self._queue is not None and (self._queue.has_texts or not query.text.strip()):
                ids = self._queue.query(query, now=self._clock.now())
                return QueuePage(ids=ids, total=len(ids), complete=True)
        with self._engine.connect() as conn:
            ids, total = queue_sql.first_page(conn, query, now=self._clock.now(), limit=limit)
        return QueuePage(ids=ids, total=total, complete=len(ids) == total)

    def warm_queue_texts(self) -> None:
        """Load the search texts ahead of the first text filter (call from the worker after opening)."""
        with self._queue_lock:
            self._load_texts(self._queue_index())

    def rows(self, *, ids: Sequence[str]) -> dict[str, TicketRow]:
        with self._engine.connect() as conn:
            return ticket_queries.fetch_ticket_rows(conn, ids)

    def due_counts(self, *, due_soon_hours: float) -> tuple[int, int]:
        with self._queue_lock:
            return self._queue_index().due_counts(now=self._clock.now(), due_soon_hours=due_soon_hours)

    def invalidate_queue(self) -> None:
        with self._queue_lock:
            self._queue = None

    def _queue_index(self) -> QueueIndex:
        if self._queue is None:
            with self._engine.connect() as conn:
                self._queue = QueueIndex(ticket_queries.load_queue_entries(conn))
        return self._queue

    def _load_texts(self, index: QueueIndex) -> None:
        if not index.has_texts:
            with self._engine.connect() as conn:
                index.set_texts(ticket_queries.load_queue_texts(conn))

    def refresh_queue(self, ticket_ids: Sequence[str]) -> None:
        """Re-read these tickets into the queue index; any service that writes a ticket column the
        queue shows (status, assignee, due_at …) calls this after its transaction commits."""
        with self._queue_lock:
            if self._queue is None:
                return  # loaded fresh on the next query
            with self._engine.connect() as conn:
                entries = list(ticket_queries.load_queue_entries(conn, ticket_ids))
                texts = None
                if self._queue.has_texts:
                    texts = list(ticket_queries.load_queue_texts(conn, ticket_ids))
            # a ticket that is not read back was deleted; the others keep their place in the index
            found = {e.id for e in entries}
            self._queue.remove([t for t in ticket_ids if t not in found])
            self._queue.upsert(entries, texts)

    def detail(self, *, ticket_id: str) -> TicketDetail:
        with self._engine.connect() as conn:
            row = ticket_queries.fetch_ticket_rows(conn, [ticket_id]).get(ticket_id)
            if row is None:
                raise NotFound(f"工单 {ticket_id} 不存在或已被删除")
            t = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).mappings().one()
            customer = None
            if t["customer_id"]:
                customer = (
                    conn.execute(select(customers).where(customers.c.id == t["customer_id"])).mappings().one()
                )
            names = {r.id: r.name for r in conn.execute(select(users.c.id, users.c.name))}
            events = tuple(
                TicketEventRow(
                    id=e.id,
                    kind=EventKind(e.kind),
                    at=e.at,
                    actor_name=names.get(e.actor_id) if e.actor_id else None,
                    text=e.text,
                )
                for e in conn.execute(
                    select(ticket_events)
                    .where(ticket_events.c.ticket_id == ticket_id)
                    .order_by(ticket_events.c.at, ticket_events.c.id)
                )
            )
        return TicketDetail(
            row=row,
            client_id=t["client_id"],
            shop_id=t["shop_id"],
            assignee_id=t["assignee_id"],
            order_no=t["order_no"],
            customer_phone_masked=mask_phone(customer["phone"]) if customer else None,
            customer_address_masked=mask_address(customer["address"]) if customer else None,
            first_response_at=t["first_response_at"],
            resolved_at=t["resolved_at"],
            events=events,
        )

    # --- writes ------------------------------------------------------------------------------
    def create(self, *, ticket: NewTicket, actor_id: str | None) -> tuple[TicketRow, Changes]:
        now = self._clock.now()
        errors = validate_new_ticket(ticket, now=now)
        if errors:
            raise TicketInputError(errors)
        ticket_id = new_id()
        with self._engine.begin() as conn:
            shop = conn.execute(select(shops).where(shops.c.id == ticket.shop_id)).mappings().first()
            if shop is None or shop["client_id"] != ticket.client_id:
                raise TicketInputError({"shop": "所选店铺不属于该品牌方"})
            customer_id = self._find_or_create_customer(conn, ticket, platform=shop["platform"], now=now)
            ticket_writes.insert_ticket(
                conn,
                {
                    "id": ticket_id,
                    "number": ticket_writes.next_ticket_number(conn, now=now),
                    "client_id": ticket.client_id,
                    "shop_id": ticket.shop_id,
                    "customer_id": customer_id,
                    "platform": shop["platform"],
                    "order_no": ticket.order_no.strip() or None,
                    "category": ticket.category.value,
                    "priority": ticket.priority.value,
                    "status": TicketStatus.NEW.value,
                    "subject": ticket.subject.strip(),
                    "product": ticket.product.strip() or None,
                    "tags": "|".join(t.strip() for t in ticket.tags),
                    "assignee_id": ticket.assignee_id,
                    "created_by": actor_id,
                    "platform_intervention": ticket.platform_intervention,
                    "created_at": now,
                    "updated_at": now,
                    "due_at": ticket.due_at,
                    "origin": self._origin,
                    "version": "",
                    "deleted": False,
                },
            )
            ticket_writes.append_event(
                conn,
                ticket_id=ticket_id,
                kind=EventKind.CREATED,
                at=now,
                actor_id=actor_id,
                text=ticket.note.strip() or "创建工单",
                origin=self._origin,
            )
            row = ticket_queries.fetch_ticket_rows(conn, [ticket_id])[ticket_id]
        self.refresh_queue([ticket_id])
        return row, Changes(tickets=True, ticket_ids=(ticket_id,))

    def add_note(self, *, ticket_id: str, text: str, actor_id: str | None, reply: bool = False) -> Changes:
        text = text.strip()
        if not text:
            raise ServiceError("备注内容不能为空")
        now = self._clock.now()
        with self._engine.begin() as conn:
            current = self._load(conn, ticket_id)
            values: dict[str, object] = {"updated_at": now}
            if reply and current["first_response_at"] is None:
                values["first_response_at"] = now
            ticket_writes.update_ticket(conn, ticket_id, values)
            ticket_writes.append_event(
                conn,
                ticket_id=ticket_id,
                kind=EventKind.REPLY if reply else EventKind.NOTE,
                at=now,
                actor_id=actor_id,
                text=text,
                origin=self._origin,
            )
        self.refresh_queue([ticket_id])
        return Changes(tickets=True, ticket_ids=(ticket_id,))

    def assign(self, *, ticket_id: str, assignee_id: str | None, actor_id: str | None) -> Changes:
        now = self._clock.now()
        with self._engine.begin() as conn:
            current = self._load(conn, ticket_id)
            if current["assignee_id"] == assignee_id:
                return Changes()
            name = None
            if assignee_id is not None:
                name = conn.execute(select(users.c.name).where(users.c.id == assignee_id)).scalar()
                if name is None:
                    raise ServiceError("要分配的客服不存在")
            ticket_writes.update_ticket(conn, ticket_id, {"assignee_id": assignee_id, "updated_at": now})
            ticket_writes.append_event(
                conn,
                ticket_id=ticket_id,
                kind=EventKind.ASSIGN,
                at=now,
                actor_id=actor_id,
                text=f"分配给 {name}" if name else "取消分配",
                data={"from": current["assignee_id"], "to": assignee_id},
                origin=self._origin,
            )
        self.refresh_queue([ticket_id])
        return Changes(tickets=True, ticket_ids=(ticket_id,))

    def change_status(
        self, *, ticket_id: str, status: TicketStatus, actor_id: str | None, note: str = ""
    ) -> Changes:
        now = self._clock.now()
        with self._engine.begin() as conn:
            current = self._load(conn, ticket_id)
            old = TicketStatus(str(current["status"]))
            check_transition(old, status)
            values: dict[str, object] = {"status": status.value, "updated_at": now}
            if status is TicketStatus.RESOLVED:
                values["resolved_at"] = now
            elif status is TicketStatus.CLOSED:
                values["closed_at"] = now
            elif is_reopen(old, status):
                values.update(resolved_at=None, closed_at=None)
            if old is TicketStatus.NEW and current["first_response_at"] is None:
                values["first_response_at"] = now
            ticket_writes.update_ticket(conn, ticket_id, values)
            verb = "重新打开" if is_reopen(old, status) else "状态"
            text = f"{verb}：{STATUS_LABELS[old]} → {STATUS_LABELS[status]}"
            ticket_writes.append_event(
                conn,
                ticket_id=ticket_id,
                kind=EventKind.STATUS,
                at=now,
                actor_id=actor_id,
                text=text + (f"（{note.strip()}）" if note.strip() else ""),
                data={"from": old.value, "to": status.value},
                origin=self._origin,
            )
        self.refresh_queue([ticket_id])
        return Changes(tickets=True, ticket_ids=(ticket_id,))

    # --- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _load(conn: Connection, ticket_id: str) -> dict[str, object]:
        row = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).mappings().first()
        if row is None or row["deleted"]:
            raise NotFound("工单不存在或已被删除")
        return dict(row)

    def _find_or_create_customer(
        self, conn: Connection, ticket: NewTicket, *, platform: str, now: datetime
    ) -> str:
        nick = ticket.customer_nick.strip()
        existing = conn.execute(
            select(customers.c.id).where(
                customers.c.client_id == ticket.client_id,
                customers.c.platform == platform,
                customers.c.nick == nick,
            )
        ).scalar()
        if existing:
            updates: dict[str, str] = {}
            if ticket.customer_phone.strip():
                updates["phone"] = ticket.customer_phone.strip()
            if ticket.customer_address.strip():
                updates["address"] = ticket.customer_address.strip()
            if updates:
                conn.execute(update(customers).where(customers.c.id == existing).values(**updates))
            return str(existing)
        customer_id = new_id()
        conn.execute(
            insert(customers).values(
                id=customer_id,
                client_id=ticket.client_id,
                platform=platform,
                nick=nick,
                phone=ticket.customer_phone.strip() or None,
                address=ticket.customer_address.strip() or None,
                created_at=now,
                origin=self._origin,
                version="",
                deleted=False,
            )
        )
        return customer_id
