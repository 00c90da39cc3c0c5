"""报表: the supervisor's daily/weekly work report per agent and per client (品牌方).

A handful of aggregate queries on indexed columns (status, created_at, assignee, client), then the
duration statistics in Python. Tickets count for the agent they are assigned to now. An agent asking for
the report gets their own line only, with no team total and no client figures: the check lives here,
not in the panel, so the command line and any future screen get the same answer.

Definitions (also shown in the panel's help text):
- 已处理: resolved, or closed without a resolution, in the period (a ticket resolved earlier and closed now
  is not counted twice);
- 首次响应: first response minus creation, for tickets created in the period;
- 解决时长: resolution (or closing) minus creation, for tickets handled in the period;
- SOP 超时步骤: steps whose deadline fell in the period (and has passed) while they were still open.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, String, func, select, type_coerce

from dyy_desk.core.clock import Clock
from dyy_desk.core.report_metrics import (
    AgentLine,
    ClientLine,
    DurationStats,
    PeriodKind,
    ReportPeriod,
    WorkReport,
    category_counts,
    report_period,
)
from dyy_desk.core.ticket_states import OPEN_STATUSES
from dyy_desk.core.types import ClientRow, Role, TicketCategory, TicketStatus, UserRow
from dyy_desk.db.repos.escalation_queries import escalations, evidence
from dyy_desk.db.repos.tables import clients, tickets, users
from dyy_desk.services.errors import NotFound
from dyy_desk.services.qa_store import reviews_t
from dyy_desk.services.report_sop import overdue_steps

MANAGERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
_OPEN = [s.value for s in OPEN_STATUSES]
_DONE = [TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value]
_COUNTED_QA = ["submitted", "appealed", "final"]  # drafts and calibration never count (core.qa_review)
STEPS = 5
Progress = Callable[[int, int, str], None]


@dataclass
class _Tally:
    handled: int = 0
    open_now: int = 0
    overdue_steps: int = 0
    escalations: int = 0
    qa_reviews: int = 0
    qa_sum: float = 0.0
    first_response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)

    def busy(self) -> bool:
        return any(
            (
                self.handled,
                self.open_now,
                self.first_response,
                self.overdue_steps,
                self.escalations,
                self.qa_reviews,
            )
        )


@dataclass
class _ClientTally:
    new_tickets: int = 0
    resolved: int = 0
    interventions: int = 0
    categories: Counter[TicketCategory] = field(default_factory=Counter)


class ReportService:
    def __init__(self, *, engine: Engine, clock: Clock, zone: tzinfo | None = None) -> None:
        """`zone`: where the report's days begin and end (None: the computer's local time)."""
        self._engine = engine
        self._clock = clock
        self._zone = zone

    # --- what the panel asks first -------------------------------------------------------------
    def period(
        self, kind: PeriodKind, *, first_day: date | None = None, last_day: date | None = None
    ) -> ReportPeriod:
        return report_period(
            kind, now=self._clock.now(), zone=self._zone, first_day=first_day, last_day=last_day
        )

    def clients(self) -> list[ClientRow]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(clients.c.id, clients.c.name)
                .where(clients.c.deleted.is_(False))
                .order_by(clients.c.name)
            )
            return [ClientRow(r.id, r.name) for r in rows]

    # --- the report ----------------------------------------------------------------------------
    def report(
        self,
        *,
        actor_id: str,
        period: ReportPeriod,
        client_id: str | None = None,
        progress: Progress | None = None,
    ) -> WorkReport:
        """`progress(done, total, label)` is called between the steps; it may raise to stop the report
        (nothing is written, so stopping leaves nothing behind)."""
        now = self._clock.now()
        step = progress or (lambda _done, _total, _label: None)
        with self._engine.connect() as conn:
            actor = _actor(conn, actor_id)
            own = None if actor.role in MANAGERS else actor.id
            scope = _ticket_scope(client_id, own)
            tallies: dict[str | None, _Tally] = defaultdict(_Tally)
            per_client: dict[str, _ClientTally] = defaultdict(_ClientTally)
            step(0, STEPS, "新建工单与首次响应")
            self._created(conn, period, scope, tallies, per_client)
            step(1, STEPS, "已处理工单与解决时长")
            self._handled(conn, period, scope, tallies, per_client)
            step(2, STEPS, "未结工单")
            for assignee, count in conn.execute(
                select(tickets.c.assignee_id, func.count())
                .where(tickets.c.status.in_(_OPEN), *scope)
                .group_by(tickets.c.assignee_id)
            ):
                tallies[assignee].open_now = count
            step(3, STEPS, "SOP 超时步骤")
            for assignee, missed in overdue_steps(
                conn, start=period.start, end=period.end, now=now, scope=scope
            ).items():
                tallies[assignee].overdue_steps = missed
            step(4, STEPS, "升级与质检")
            self._escalations(conn, period, client_id, own, tallies)
            self._qa(conn, period, client_id, own, tallies)
            names = {r.id: r.name for r in conn.execute(select(users.c.id, users.c.name))}
            agents = [
                r.id
                for r in conn.execute(
                    select(users.c.id).where(users.c.role == Role.AGENT.value, users.c.deleted.is_(False))
                )
            ]
            client_names = {r.id: r.name for r in conn.execute(select(clients.c.id, clients.c.name))}
        if own is not None:
            step(STEPS, STEPS, "完成")
            return WorkReport(period, client_id, now, (_line(own, names, tallies[own]),), None, ())
        # every agent (a quiet day is a figure too), and anyone else who handled tickets in the period
        busy = [a for a, t in tallies.items() if a is not None and a not in agents and t.busy()]
        lines = sorted(
            (_line(a, names, tallies[a]) for a in agents + busy), key=lambda x: (-x.handled, x.agent_name)
        )
        if None in tallies and tallies[None].busy():
            lines.append(_line(None, names, tallies[None]))
        total = _line(None, names, _merge(tallies.values()), name="全部")
        client_lines = tuple(
            sorted(
                (_client_line(c, client_names.get(c, c), t) for c, t in per_client.items()),
                key=lambda x: (-x.new_tickets, x.client_name),
            )
        )
        step(STEPS, STEPS, "完成")
        return WorkReport(period, client_id, now, tuple(lines), total, client_lines)

    # --- queries -------------------------------------------------------------------------------
    @staticmethod
    def _created(
        conn: Connection,
        period: ReportPeriod,
        scope: list[ColumnElement[bool]],
        tallies: dict[str | None, _Tally],
        per_client: dict[str, _ClientTally],
    ) -> None:
        """Tickets created in the period: what each client's buyers asked about (counted in SQL), and
        the first-response times (the only per-ticket rows read)."""
        created = [tickets.c.created_at >= period.start, tickets.c.created_at < period.end, *scope]
        mix = select(
            tickets.c.client_id, tickets.c.category, tickets.c.platform_intervention, func.count()
        ).where(*created)
        for client, category, intervention, count in conn.execute(
            mix.group_by(tickets.c.client_id, tickets.c.category, tickets.c.platform_intervention)
        ):
            c = per_client[client]
            c.new_tickets += count
            c.categories[TicketCategory(category)] += count
            c.interventions += count if intervention else 0
        responded = select(
            tickets.c.assignee_id, _raw(tickets.c.created_at), _raw(tickets.c.first_response_at)
        )
        for assignee, at, first in conn.execute(
            responded.where(tickets.c.first_response_at.is_not(None), *created)
        ):
            tallies[assignee].first_response.append(_elapsed(at, first))

    @staticmethod
    def _handled(
        conn: Connection,
        period: ReportPeriod,
        scope: list[ColumnElement[bool]],
        tallies: dict[str | None, _Tally],
        per_client: dict[str, _ClientTally],
    ) -> None:
        finished = func.coalesce(tickets.c.resolved_at, tickets.c.closed_at)
        query = select(
            tickets.c.assignee_id, tickets.c.client_id, _raw(tickets.c.created_at), _raw(finished)
        ).where(tickets.c.status.in_(_DONE), finished >= period.start, finished < period.end, *scope)
        for assignee, client, created, done in conn.execute(query):
            tally = tallies[assignee]
            tally.handled += 1
            tally.resolution.append(_elapsed(created, done))
            per_client[client].resolved += 1

    @staticmethod
    def _escalations(
        conn: Connection,
        period: ReportPeriod,
        client_id: str | None,
        own: str | None,
        tallies: dict[str | None, _Tally],
    ) -> None:
        query = select(escalations.c.raised_by, func.count(func.distinct(escalations.c.id))).where(
            escalations.c.deleted.is_(False),
            escalations.c.raised_by.is_not(None),
            escalations.c.created_at >= period.start,
            escalations.c.created_at < period.end,
        )
        if own is not None:
            query = query.where(escalations.c.raised_by == own)
        if client_id:
            on_client = (
                select(evidence.c.escalation_id)
                .join(tickets, tickets.c.id == evidence.c.ticket_id)
                .where(tickets.c.client_id == client_id, evidence.c.deleted.is_(False))
            )
            query = query.where(escalations.c.id.in_(on_client))
        for raiser, count in conn.execute(query.group_by(escalations.c.raised_by)):
            tallies[raiser].escalations = count

    @staticmethod
    def _qa(
        conn: Connection,
        period: ReportPeriod,
        client_id: str | None,
        own: str | None,
        tallies: dict[str | None, _Tally],
    ) -> None:
        query = select(reviews_t.c.agent_id, func.count(), func.sum(reviews_t.c.score)).where(
            reviews_t.c.deleted.is_(False),
            reviews_t.c.kind == "regular",
            reviews_t.c.state.in_(_COUNTED_QA),
            reviews_t.c.submitted_at >= period.start,
            reviews_t.c.submitted_at < period.end,
        )
        if own is not None:
            query = query.where(reviews_t.c.agent_id == own)
        if client_id:
            query = query.where(reviews_t.c.client_id == client_id)
        for agent, count, total in conn.execute(query.group_by(reviews_t.c.agent_id)):
            tallies[agent].qa_reviews = count
            tallies[agent].qa_sum = float(total or 0)


def _actor(conn: Connection, actor_id: str) -> UserRow:
    row = conn.execute(select(users.c.id, users.c.name, users.c.role).where(users.c.id == actor_id)).first()
    if row is None:
        raise NotFound("请先在右上角选择当前用户，再查看报表")
    return UserRow(row.id, row.name, Role(row.role))


def _ticket_scope(client_id: str | None, own: str | None) -> list[ColumnElement[bool]]:
    scope: list[ColumnElement[bool]] = [tickets.c.deleted.is_(False)]
    if client_id:
        scope.append(tickets.c.client_id == client_id)
    if own is not None:
        scope.append(tickets.c.assignee_id == own)
    return scope


def _raw(column: ColumnElement[datetime]) -> ColumnElement[Any]:
    """The stored value without the ORM's per-row conversion to an aware datetime: tens of thousands of
    rows are only ever subtracted from one another here."""
    return type_coerce(column, String)


def _elapsed(start: str | datetime, end: str | datetime) -> float:
    """Seconds between two stored instants (SQLite hands back ISO text, other engines datetimes; both UTC)."""
    a = datetime.fromisoformat(start) if isinstance(start, str) else start
    b = datetime.fromisoformat(end) if isinstance(end, str) else end
    return max(0.0, (b - a).total_seconds())


def _merge(tallies: Iterable[_Tally]) -> _Tally:
    total = _Tally()
    for t in tallies:
        total.handled += t.handled
        total.open_now += t.open_now
        total.overdue_steps += t.overdue_steps
        total.escalations += t.escalations
        total.qa_reviews += t.qa_reviews
        total.qa_sum += t.qa_sum
        total.first_response += t.first_response
        total.resolution += t.resolution
    return total


def _line(agent_id: str | None, names: dict[str, str], t: _Tally, *, name: str = "未分配") -> AgentLine:
    return AgentLine(
        agent_id=agent_id,
        agent_name=names.get(agent_id, agent_id) if agent_id else name,
        handled=t.handled,
        open_now=t.open_now,
        first_response=DurationStats.of(t.first_response),
        resolution=DurationStats.of(t.resolution),
        overdue_steps=t.overdue_steps,
        escalations=t.escalations,
        qa_reviews=t.qa_reviews,
        qa_average=t.qa_sum / t.qa_reviews if t.qa_reviews else None,
    )


def _client_line(client_id: str, name: str, t: _ClientTally) -> ClientLine:
    return ClientLine(
        client_id=client_id,
        client_name=name,
        new_tickets=t.new_tickets,
        resolved=t.resolved,
        by_category=category_counts(dict(t.categories)),
        negative_reviews=t.categories[TicketCategory.NEGATIVE_REVIEW],
        quality_complaints=t.categories[TicketCategory.QUALITY_COMPLAINT],
        platform_interventions=t.interventions,
    )
