from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyy_desk.core.queue_index import NO_DEADLINE, QueueEntry, QueueIndex, db_time
from dyy_desk.core.ticket_query import QueueView, SortKey, TicketQuery
from dyy_desk.core.types import Platform, TicketCategory, TicketStatus

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def entry(
    n: int,
    *,
    status: str = "new",
    due_h: float | None = None,
    assignee: str | None = None,
    platform: str = "jd",
    created_h: float = 0,
    escalated: int = 0,
) -> QueueEntry:
    return QueueEntry(
        id=f"id{n:03d}",
        number=f"T20261123-{n:04d}",
        status=status,
        client_id="c1",
        client_name="暖居家纺",
        shop_id="s1",
        platform=platform,
        category="exchange",
        priority="normal",
        assignee_id=assignee,
        due=db_time(NOW + timedelta(hours=due_h)) if due_h is not None else NO_DEADLINE,
        created=db_time(NOW - timedelta(hours=created_h)),
        updated=db_time(NOW),
        escalated=escalated,
    )


def test_db_time_sorts_like_instants() -> None:
    a, b = NOW, NOW + timedelta(microseconds=1)
    assert db_time(a) < db_time(b) < NO_DEADLINE


def test_views() -> None:
    index = QueueIndex(
        [
            entry(1, due_h=1, assignee="u1"),
            entry(2, due_h=-1),
            entry(3, due_h=5, status="closed"),
            entry(4, due_h=30, assignee="u1"),
            entry(5, escalated=2),
        ]
    )
    q = TicketQuery
    assert index.query(q(view=QueueView.MINE, user_id="u1"), now=NOW) == ["id001", "id004"]
    assert index.query(q(view=QueueView.UNASSIGNED), now=NOW) == ["id002", "id005"]
    assert index.query(q(view=QueueView.DUE_SOON, due_soon_hours=2), now=NOW) == ["id001"]
    assert index.query(q(view=QueueView.OVERDUE), now=NOW) == ["id002"]
    assert index.query(q(view=QueueView.ESCALATED), now=NOW) == ["id005"]
    assert index.due_counts(now=NOW, due_soon_hours=2) == (1, 1)


def test_due_sort_puts_no_deadline_last_and_ties_newest_first() -> None:
    index = QueueIndex([entry(1, created_h=5), entry(2, due_h=3), entry(3, created_h=1), entry(4, due_h=-2)])
    assert index.query(TicketQuery(sort=SortKey.DUE), now=NOW) == ["id004", "id002", "id003", "id001"]
    assert index.query(TicketQuery(sort=SortKey.DUE, descending=True), now=NOW)[0] == "id001"


def test_text_and_field_filters_and_upsert() -> None:
    first, second = entry(1), entry(2, platform="pdd")
    texts = {first.id: "t20261123-0001 四件套 颜色发错", second.id: "t20261123-0002 枕头 破损"}
    index = QueueIndex([first, second])
    with pytest.raises(LookupError):
        index.query(TicketQuery(text="颜色"), now=NOW)
    index.set_texts(texts.items())
    assert index.query(TicketQuery(text="颜色 四件套"), now=NOW) == ["id001"]
    assert index.query(TicketQuery(text="T20261123-0002"), now=NOW) == ["id002"]
    assert index.query(TicketQuery(platform=Platform.PDD), now=NOW) == ["id002"]
    # equal creation times: the later id (UUIDv7: created later) comes first
    assert index.query(TicketQuery(category=TicketCategory.EXCHANGE), now=NOW) == ["id002", "id001"]
    index.upsert([entry(2, status="closed")], [(second.id, "t20261123-0002 枕头 破损 已关闭")])
    assert index.query(TicketQuery(text="已关闭"), now=NOW) == ["id002"]
    assert index.query(TicketQuery(status=TicketStatus.CLOSED), now=NOW) == ["id002"]
    index.remove(["id001"])
    assert len(index) == 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["new", "closed", "in_progress"]),
            st.one_of(st.none(), st.floats(-48, 48)),
            st.sampled_from([None, "u1", "u2"]),
        ),
        max_size=40,
    ),
    st.sampled_from(list(QueueView)),
    st.sampled_from(list(SortKey)),
    st.booleans(),
)
def test_query_equals_brute_force_filter(
    rows: list[tuple[str, float | None, str | None]], view: QueueView, key: SortKey, descending: bool
) -> None:
    entries = [entry(i, status=s, due_h=d, assignee=a, created_h=i) for i, (s, d, a) in enumerate(rows)]
    index = QueueIndex(entries)
    query = TicketQuery(view=view, user_id="u1", sort=key, descending=descending)
    got = index.query(query, now=NOW)
    assert len(got) == len(set(got))
    open_ = {"new", "in_progress"}
    now = db_time(NOW)
    soon = db_time(NOW + timedelta(hours=2))
    expected = {
        e.id
        for e in entries
        if view is QueueView.ALL
        or (view is QueueView.MINE and e.assignee_id == "u1" and e.status in open_)
        or (view is QueueView.UNASSIGNED and e.assignee_id is None and e.status in open_)
        or (view is QueueView.DUE_SOON and e.status in open_ and now <= e.due < soon)
        or (view is QueueView.OVERDUE and e.status in open_ and e.due < now)
    }
    assert set(got) == expected
    if key is SortKey.DUE and not descending:
        due_of = {e.id: e.due for e in entries}
        dues = [due_of[i] for i in got]
        assert dues == sorted(dues)


def test_due_soon_follows_the_stored_policy_instant() -> None:
    """A checklist's 即将超时 instant (25 % of a long window) wins over the fixed due-soon hours."""
    policy = entry(1, due_h=10)._replace(due_soon=db_time(NOW - timedelta(hours=1)))  # warned since 8:00
    later = entry(2, due_h=1)._replace(due_soon=db_time(NOW + timedelta(minutes=30)))  # warns at 9:30
    plain = entry(3, due_h=1)  # no checklist: the last 2 h
    index = QueueIndex([policy, later, plain])
    query = TicketQuery(view=QueueView.DUE_SOON, due_soon_hours=2)
    assert index.query(query, now=NOW) == ["id003", "id001"]
    assert index.due_counts(now=NOW, due_soon_hours=2) == (2, 0)
    assert index.query(query, now=NOW + timedelta(minutes=30)) == ["id003", "id002", "id001"]
