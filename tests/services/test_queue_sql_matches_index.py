"""The SQL first page (shown before the index loads) must equal the start of the index's answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from dyy_desk.core.queue_index import QueueIndex
from dyy_desk.core.ticket_query import QueueView, SortKey, TicketQuery
from dyy_desk.core.types import Platform, TicketCategory, TicketStatus
from dyy_desk.db.repos import queue_sql, ticket_queries
from dyy_desk.db.repos.tables import tickets

WORDS = ["", "退", "换", "四件套", "t2026", "坚果 礼盒", "小雨", "jd_", "%", "不存在的词"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    view=st.sampled_from(list(QueueView)),
    sort=st.sampled_from(list(SortKey)),
    descending=st.booleans(),
    status=st.one_of(st.none(), st.sampled_from(list(TicketStatus))),
    category=st.one_of(st.none(), st.sampled_from(list(TicketCategory))),
    platform=st.one_of(st.none(), st.sampled_from(list(Platform))),
    text=st.sampled_from(WORDS),
    limit=st.sampled_from([1, 7, 50, 500]),
)
def test_sql_first_page_equals_index_prefix(demo_workspace: Any, **kw: Any) -> None:
    ws = demo_workspace
    _store_policy_instants(ws)
    user = ws.directory.users()[0]
    limit = kw.pop("limit")
    query = TicketQuery(user_id=user.id, due_soon_hours=6, **kw)
    now = ws.clock.now()
    with ws.engine.connect() as conn:
        index = QueueIndex(ticket_queries.load_queue_entries(conn), ticket_queries.load_queue_texts(conn))
        ids, total = queue_sql.first_page(conn, query, now=now, limit=limit)
    expected = index.query(query, now=now)
    assert total == len(expected)
    assert ids == expected[:limit]


def _store_policy_instants(ws: Any) -> None:
    """Every third ticket with a deadline gets a checklist's 即将超时 instant, some already passed and
    some still ahead (idempotent: hypothesis reuses the workspace across examples)."""
    with ws.engine.begin() as conn:
        dated = select(tickets.c.id, tickets.c.due_at).where(tickets.c.due_at.is_not(None))
        rows = conn.execute(dated).all()
        for n, (ticket_id, due_at) in enumerate(sorted(rows)):
            if n % 3 == 0:
                lead = timedelta(hours=30 if n % 2 else 1)
                stmt = update(tickets).where(tickets.c.id == ticket_id).values(due_soon_at=due_at - lead)
                conn.execute(stmt)
