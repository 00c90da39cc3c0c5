"""SOP checklist use cases on a ticket: start, tick, skip, note, proof, anchor events, deadlines.

Each write is one transaction that also recomputes the ticket's `due_at` as the nearest open step
deadline (so the queue's countdown, its 即将超时/已超时 views and its due sort follow the checklist) and
appends a line to the ticket's timeline; entering a platform/manual deadline and skipping a required
step also go to the audit log (sop_audit). While no open step has a deadline yet, `due_at` falls back to
what the ticket had before the checklist started.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation

from sqlalchemy import Connection, Engine, RowMapping, select

from dyy_desk.core import sop_checklist as sc
from dyy_desk.core.changes import Changes
from dyy_desk.core.clock import Clock
from dyy_desk.core.deadlines import DEFAULT_POLICY
from dyy_desk.core.sop_checklist import ChecklistError, DeadlineSource
from dyy_desk.core.sop_template import AFTER_SALES_TYPE_LABELS, ANCHOR_LABELS, AfterSalesType, AnchorEvent
from dyy_desk.core.sop_timers import nearest_open_deadline
from dyy_desk.core.types import EventKind, Platform, TicketCategory
from dyy_desk.db.repos import ticket_writes
from dyy_desk.db.repos.tables import tickets, users
from dyy_desk.services import sop_store as store
from dyy_desk.services.errors import NotFound, ServiceError
from dyy_desk.services.sop_audit import audit_deadline, audit_required_skip
from dyy_desk.services.sop_catalog import SopCatalog
from dyy_desk.services.sop_deadline_text import parse_deadline_text
from dyy_desk.services.sop_monitor import SopMonitor
from dyy_desk.services.sop_views import ChecklistView, StartOption, StartOptions, build_view
from dyy_desk.services.tickets import TicketService

T = AfterSalesType
# after-sales types a ticket category points to, most likely first; the agent picks when there are several
CATEGORY_TYPES: dict[TicketCategory, tuple[AfterSalesType, ...]] = {
    TicketCategory.RETURN_REFUND: (T.RETURN_REFUND,),
    TicketCategory.EXCHANGE: (T.EXCHANGE,),
    TicketCategory.REFUND_ONLY: (T.REFUND_ONLY_NOT_SHIPPED, T.REFUND_ONLY_SHIPPED),
    TicketCategory.LOGISTICS: (T.MISSING_ITEM, T.WRONG_ITEM, T.RESHIP, T.REFUSED_DELIVERY),
    TicketCategory.QUALITY_COMPLAINT: (T.RETURN_REFUND, T.EXCHANGE, T.RESHIP),
}
Mutation = Callable[[sc.Checklist, datetime], sc.Checklist]
Persist = Callable[[Connection, store.StoredChecklist, sc.Checklist, datetime], None]


def parse_amount(text: str) -> Decimal | None:
    cleaned = text.strip().replace("¥", "").replace("￥", "").replace(",", "").replace("元", "").strip()
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ServiceError(f"金额“{text}”无效，请写数字，例如 129.00") from None
    if not amount.is_finite() or amount < 0:
        raise ServiceError(f"金额“{text}”无效，请写不小于 0 的数字")
    return amount.quantize(Decimal("0.01"))


class SopService(SopMonitor):
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        origin: str,
        tickets: TicketService,
        local_zone: tzinfo | None = None,
    ) -> None:
        catalog = SopCatalog(engine=engine, origin=origin)
        super().__init__(engine=engine, catalog=catalog)
        self.catalog = catalog
        self._clock = clock
        self._origin = origin
        self._tickets = tickets
        self._zone = local_zone

    # --- reads -------------------------------------------------------------------------------
    def view(self, *, ticket_id: str) -> ChecklistView | None:
        with self._engine.connect() as conn:
            stored = store.load_checklists(conn, ticket_ids=[ticket_id]).get(ticket_id)
            return self._view(conn, stored) if stored else None

    def start_options(self, *, ticket_id: str) -> StartOptions:
        with self._engine.connect() as conn:
            ticket = _ticket(conn, ticket_id)
        registry = self.catalog.registry()
        on = self._clock.now().astimezone(self.catalog.schedule().zone).date()
        platform, category = Platform(ticket["platform"]), TicketCategory(ticket["category"])
        options = []
        for t in AfterSalesType:
            template = registry.pick(t, platform, on)
            if template is not None:
                options.append(
                    StartOption(t, AFTER_SALES_TYPE_LABELS[t], template.id, template.name, template.version)
                )
        available = {o.after_sales_type for o in options}
        suggested = tuple(t for t in CATEGORY_TYPES.get(category, ()) if t in available)
        return StartOptions(ticket_id, tuple(options), suggested)

    # --- writes ------------------------------------------------------------------------------
    def start(
        self,
        *,
        ticket_id: str,
        actor_id: str,
        after_sales_type: AfterSalesType | None = None,
        amount: Decimal | None = None,
        anchors: Mapping[AnchorEvent, datetime] | None = None,
    ) -> tuple[ChecklistView, Changes]:
        """`after_sales_type` may be left out only when the ticket's category points to one type."""
        options = self.start_options(ticket_id=ticket_id)
        if after_sales_type is None:
            if options.ambiguous:
                raise ServiceError("这个工单可能对应多种售后类型，请先选择售后类型")
            after_sales_type = options.suggested[0]
        option = next((o for o in options.options if o.after_sales_type == after_sales_type), None)
        if option is None:
            raise ServiceError(f"没有适用于此平台的「{AFTER_SALES_TYPE_LABELS[after_sales_type]}」处理清单")
        template = self.catalog.template(option.template_id, option.template_version)
        now = self._clock.now()
        with self._engine.begin() as conn:
            ticket = _ticket(conn, ticket_id)
            if store.load_checklists(conn, ticket_ids=[ticket_id]):
                raise ServiceError("这个工单已经有处理清单")
            given = {AnchorEvent.TICKET_CREATED: ticket["created_at"], **(anchors or {})}
            try:
                checklist = sc.start_checklist(template, by=_who(actor_id), now=now, anchors=given)
            except ChecklistError as exc:
                raise ServiceError(str(exc)) from None
            store.insert_checklist(
                conn,
                ticket_id=ticket_id,
                checklist=checklist,
                amount=amount,
                ticket_due_before=ticket["due_at"],
                origin=self._origin,
            )
            stored = store.load_checklists(conn, ticket_ids=[ticket_id])[ticket_id]
            self._after_write(
                conn, stored, actor_id, now, f"开始处理清单：{template.name}（第 {template.version} 版）"
            )
            view = self._view(conn, stored)
        return view, self._done(ticket_id)

    def tick(self, *, ticket_id: str, step_id: str, actor_id: str) -> tuple[ChecklistView, Changes]:
        return self._step_change(
            ticket_id, actor_id, step_id, lambda c, now: sc.tick_step(c, step_id, by=actor_id, at=now), "完成"
        )

    def skip(
        self, *, ticket_id: str, step_id: str, reason: str, actor_id: str
    ) -> tuple[ChecklistView, Changes]:
        def skip(c: sc.Checklist, now: datetime) -> sc.Checklist:
            return sc.skip_step(c, step_id, by=actor_id, at=now, reason=reason)

        def audit(conn: Connection, stored: store.StoredChecklist, _new: sc.Checklist, now: datetime) -> None:
            template = self.catalog.template(stored.checklist.template_id, stored.checklist.template_version)
            if template.step(step_id).required:
                audit_required_skip(
                    conn, ticket_id=ticket_id, step_id=step_id, reason=reason, actor_id=actor_id, now=now
                )

        return self._step_change(
            ticket_id, actor_id, step_id, skip, f"跳过（原因：{reason.strip()}）", audit=audit
        )

    def set_deadline(
        self,
        *,
        ticket_id: str,
        step_id: str,
        source: DeadlineSource,
        actor_id: str,
        text: str | None = None,
        at: datetime | None = None,
    ) -> tuple[ChecklistView, Changes]:
        """A platform-shown or manual deadline from pasted `text` (local time or countdown) or `at`;
        neither clears the entry."""
        now = self._clock.now()
        source = DeadlineSource(source)  # a plain string from a UI picker means the same
        deadline = at
        if text is not None and text.strip():
            deadline = parse_deadline_text(text, now=now, zone=self._zone)
        what = "平台显示时限" if source is DeadlineSource.PLATFORM else "手动时限"

        def put(c: sc.Checklist, when: datetime) -> sc.Checklist:
            return sc.set_deadline(c, step_id, source, deadline, by=actor_id, at=when)

        def entered(c: sc.Checklist) -> sc.EnteredDeadline | None:
            record = c.record(step_id)
            return record.platform_deadline if source is DeadlineSource.PLATFORM else record.manual_deadline

        def audit(conn: Connection, stored: store.StoredChecklist, new: sc.Checklist, when: datetime) -> None:
            old = entered(stored.checklist)
            if old is None and entered(new) is None:
                return  # clearing an empty entry changes no clock
            audit_deadline(
                conn,
                ticket_id=ticket_id,
                step_id=step_id,
                source=source,
                old=old,
                new=entered(new),
                actor_id=actor_id,
                now=when,
            )

        verb = f"录入{what} {deadline.astimezone(self._zone):%Y-%m-%d %H:%M}" if deadline else f"清除{what}"
        return self._step_change(ticket_id, actor_id, step_id, put, verb, audit=audit)

    def record_anchor(
        self, *, ticket_id: str, event: AnchorEvent, at: datetime, actor_id: str
    ) -> tuple[ChecklistView, Changes]:
        def record(c: sc.Checklist, now: datetime) -> sc.Checklist:
            return sc.record_anchor(c, event, at, by=actor_id, now=now)

        def persist(
            conn: Connection, stored: store.StoredChecklist, new: sc.Checklist, now: datetime
        ) -> None:
            anchor = next(a for a in new.anchors if a.event == event)
            store.save_anchor(conn, checklist_id=stored.id, anchor=anchor, now=now, origin=self._origin)

        local = at.astimezone(self._zone)
        return self._mutate(
            ticket_id, actor_id, record, persist, f"记录事件：{ANCHOR_LABELS[event]} {local:%m-%d %H:%M}"
        )

    def add_note(
        self, *, ticket_id: str, step_id: str, text: str, actor_id: str
    ) -> tuple[ChecklistView, Changes]:
        def note(c: sc.Checklist, now: datetime) -> sc.Checklist:
            return sc.add_note(c, step_id, text=text, by=actor_id, at=now)

        def persist(
            conn: Connection, stored: store.StoredChecklist, new: sc.Checklist, _now: datetime
        ) -> None:
            added = new.record(step_id).notes[-1]
            store.insert_note(conn, checklist_id=stored.id, step_id=step_id, note=added, origin=self._origin)

        return self._mutate(ticket_id, actor_id, note, persist, f"步骤备注：{text.strip()}")

    def add_proof(
        self, *, ticket_id: str, step_id: str, ref: str, label: str = "", actor_id: str
    ) -> tuple[ChecklistView, Changes]:
        def proof(c: sc.Checklist, now: datetime) -> sc.Checklist:
            return sc.add_proof(c, step_id, ref=ref, by=actor_id, at=now, label=label)

        def persist(
            conn: Connection, stored: store.StoredChecklist, new: sc.Checklist, _now: datetime
        ) -> None:
            added = new.record(step_id).proofs[-1]
            store.insert_proof(
                conn, checklist_id=stored.id, step_id=step_id, proof=added, origin=self._origin
            )

        return self._mutate(
            ticket_id,
            actor_id,
            proof,
            persist,
            f"添加凭证：{(label.strip() + ' ') if label.strip() else ''}{ref.strip()}",
        )

    def set_amount(
        self, *, ticket_id: str, amount: Decimal | None, actor_id: str
    ) -> tuple[ChecklistView, Changes]:
        def persist(
            conn: Connection, stored: store.StoredChecklist, _new: sc.Checklist, _now: datetime
        ) -> None:
            store.set_amount(conn, checklist_id=stored.id, amount=amount)

        text = f"售后金额：¥{amount:,.2f}" if amount is not None else "清除售后金额"
        return self._mutate(ticket_id, actor_id, lambda c, _now: c, persist, text)

    # --- helpers -----------------------------------------------------------------------------
    def _step_change(
        self,
        ticket_id: str,
        actor_id: str,
        step_id: str,
        change: Mutation,
        verb: str,
        *,
        audit: Persist | None = None,
    ) -> tuple[ChecklistView, Changes]:
        """`audit` runs after the step is saved, in the same transaction, with the checklist before."""

        def persist(
            conn: Connection, stored: store.StoredChecklist, new: sc.Checklist, now: datetime
        ) -> None:
            store.save_step(conn, checklist_id=stored.id, record=new.record(step_id))
            if audit is not None:
                audit(conn, stored, new, now)

        def describe(stored: store.StoredChecklist) -> str:
            template = self.catalog.template(stored.checklist.template_id, stored.checklist.template_version)
            title = next((s.title for s in template.steps if s.id == step_id), step_id)
            return f"「{title}」{verb}"

        return self._mutate(ticket_id, actor_id, change, persist, describe)

    def _mutate(
        self,
        ticket_id: str,
        actor_id: str,
        change: Mutation,
        persist: Persist,
        text: str | Callable[[store.StoredChecklist], str],
    ) -> tuple[ChecklistView, Changes]:
        now = self._clock.now()
        _who(actor_id)
        with self._engine.begin() as conn:
            _ticket(conn, ticket_id)
            stored = store.load_checklists(conn, ticket_ids=[ticket_id]).get(ticket_id)
            if stored is None:
                raise ServiceError("这个工单还没有处理清单，请先点「开始处理清单」")
            try:
                new = change(stored.checklist, now)
            except (ChecklistError, ValueError) as exc:
                raise ServiceError(str(exc)) from None
            persist(conn, stored, new, now)
            stored = replace(stored, checklist=new)
            line = text if isinstance(text, str) else text(stored)
            self._after_write(conn, stored, actor_id, now, line)
            stored = store.load_checklists(conn, ticket_ids=[ticket_id])[ticket_id]
            view = self._view(conn, stored)
        return view, self._done(ticket_id)

    def _after_write(
        self, conn: Connection, stored: store.StoredChecklist, actor_id: str, now: datetime, text: str
    ) -> None:
        template = self.catalog.template(stored.checklist.template_id, stored.checklist.template_version)
        nearest = nearest_open_deadline(stored.checklist, template, now=now, schedule=self.catalog.schedule())
        deadline = nearest.deadline if nearest else None
        due = deadline.at if deadline else stored.ticket_due_before
        # the queue's 即将超时 follows the same policy as the checklist chips (None: due_at − the setting)
        soon = DEFAULT_POLICY.due_soon_from(deadline.at, deadline.window_start) if deadline else None
        ticket_writes.update_ticket(
            conn, stored.ticket_id, {"due_at": due, "due_soon_at": soon, "updated_at": now}
        )
        ticket_writes.append_event(
            conn,
            ticket_id=stored.ticket_id,
            kind=EventKind.EDIT,
            at=now,
            actor_id=actor_id,
            text=f"SOP {text}",
            origin=self._origin,
        )

    def _view(self, conn: Connection, stored: store.StoredChecklist) -> ChecklistView:
        template = self.catalog.template(stored.checklist.template_id, stored.checklist.template_version)
        names = {r.id: r.name for r in conn.execute(select(users.c.id, users.c.name))}
        return build_view(stored, template, self.catalog.schedule(), names)

    def _done(self, ticket_id: str) -> Changes:
        self._tickets.refresh_queue([ticket_id])
        return Changes(sop=True, tickets=True, ticket_ids=(ticket_id,))


def _ticket(conn: Connection, ticket_id: str) -> RowMapping:
    row = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).mappings().first()
    if row is None or row["deleted"]:
        raise NotFound("工单不存在或已被删除")
    return row


def _who(actor_id: str | None) -> str:
    if not actor_id:
        raise ServiceError("请先在右上角选择当前客服，再操作处理清单")
    return actor_id
