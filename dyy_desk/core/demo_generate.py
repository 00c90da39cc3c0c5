"""Build the demo workspace (users, shops, ~200 tickets with timelines) from resources/demo data.

Pure and seeded: the same spec, seed and `now` give the same workspace, so screenshots and tests are stable.
"""

from __future__ import annotations

import random
import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dyy_desk.core.ticket_numbers import format_ticket_number
from dyy_desk.core.types import (
    STATUS_LABELS,
    EventKind,
    Platform,
    Priority,
    Role,
    TicketCategory,
    TicketStatus,
)

_AFTER_SALES = {
    TicketCategory.RETURN_REFUND,
    TicketCategory.EXCHANGE,
    TicketCategory.REFUND_ONLY,
    TicketCategory.QUALITY_COMPLAINT,
    TicketCategory.LOGISTICS,
}
# How a ticket reached its status: the timeline replays these steps.
_PATHS: dict[TicketStatus, list[TicketStatus]] = {
    TicketStatus.NEW: [],
    TicketStatus.IN_PROGRESS: [TicketStatus.IN_PROGRESS],
    TicketStatus.WAITING_BUYER: [TicketStatus.IN_PROGRESS, TicketStatus.WAITING_BUYER],
    TicketStatus.WAITING_PLATFORM: [TicketStatus.IN_PROGRESS, TicketStatus.WAITING_PLATFORM],
    TicketStatus.RESOLVED: [TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED],
    TicketStatus.CLOSED: [TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLOSED],
}


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class DemoWorkspace:
    users: list[dict[str, Any]] = field(default_factory=list)
    clients: list[dict[str, Any]] = field(default_factory=list)
    shops: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)


def generate_demo(spec_text: str, *, now: datetime, seed: int = 20261123) -> DemoWorkspace:
    spec = tomllib.loads(spec_text)
    rng = random.Random(seed)
    ws = DemoWorkspace()
    for u in spec["users"]:
        ws.users.append(
            {"id": _uid(rng), "name": u["name"], "role": Role(u["role"]).value, "created_at": now}
        )
    agents = [u for u in ws.users if u["role"] == Role.AGENT.value]
    products: dict[str, list[str]] = {}
    for c in spec["clients"]:
        client = {"id": _uid(rng), "name": c["name"], "created_at": now}
        ws.clients.append(client)
        products[client["id"]] = list(c["products"])
        for s in c["shops"]:
            ws.shops.append(
                {
                    "id": _uid(rng),
                    "client_id": client["id"],
                    "name": s["name"],
                    "platform": Platform(s["platform"]).value,
                    "created_at": now,
                }
            )
    pools = spec["customers"]
    categories = list(TicketCategory)
    statuses = list(TicketStatus)
    customers_by_key: dict[tuple[str, str, str], dict[str, Any]] = {}
    tickets: list[dict[str, Any]] = []
    for i in range(int(spec["ticket_count"])):
        shop = rng.choice(ws.shops)
        client_id = shop["client_id"]
        # Every category and status appears; the rest follow a believable mix.
        category = (
            categories[i]
            if i < len(categories)
            else rng.choices(categories, weights=[14, 16, 8, 12, 14, 8, 6, 5, 2, 5])[0]
        )
        status = (
            statuses[i % len(statuses)]
            if i < 2 * len(statuses)
            else rng.choices(statuses, weights=[10, 20, 8, 5, 20, 25])[0]
        )
        nick = rng.choice(pools["nicks"])
        key = (client_id, shop["platform"], nick)
        customer = customers_by_key.get(key)
        if customer is None:
            customer = {
                "id": _uid(rng),
                "client_id": client_id,
                "platform": shop["platform"],
                "nick": nick,
                "phone": rng.choice(pools["phones"]),
                "address": rng.choice(pools["addresses"]),
                "created_at": now,
            }
            customers_by_key[key] = customer
        product = rng.choice(products[client_id])
        subject = rng.choice(spec["subjects"][category.value]).format(product=product)
        # Open cases are recent (a busy queue turns over in days); finished ones spread over the period.
        finished = status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        span_minutes = int(spec["days_back"]) * 24 * 60 if finished else 36 * 60
        created = now - timedelta(minutes=rng.randint(10, span_minutes))
        assignee = None if status is TicketStatus.NEW and rng.random() < 0.7 else rng.choice(agents)
        ticket = {
            "id": _uid(rng),
            "client_id": client_id,
            "shop_id": shop["id"],
            "customer_id": customer["id"],
            "platform": shop["platform"],
            "order_no": str(rng.randint(10**17, 10**18 - 1)),
            "category": category.value,
            "priority": rng.choices(list(Priority), weights=[10, 60, 22, 8])[0].value,
            "status": status.value,
            "subject": subject,
            "product": product,
            "tags": "|".join(rng.sample(["大促", "老客户", "加急", "需回访", "VIP"], k=rng.randint(0, 2))),
            "assignee_id": assignee["id"] if assignee else None,
            "created_by": rng.choice(agents)["id"],
            "platform_intervention": category is TicketCategory.QUALITY_COMPLAINT and rng.random() < 0.15,
            "created_at": created,
            "updated_at": created,
            "first_response_at": None,
            "resolved_at": None,
            "closed_at": None,
            "due_at": None,
        }
        if category in _AFTER_SALES and not finished:
            # A platform-style deadline: 24 h or 48 h from the request, some already close or past.
            ticket["due_at"] = created + timedelta(hours=rng.choice([24, 48]))
        _add_timeline(ws, rng, spec, ticket, status, assignee, now)
        tickets.append(ticket)
    ws.customers = list(customers_by_key.values())
    tickets.sort(key=lambda t: t["created_at"])
    for t in tickets:
        local_day = t["created_at"].astimezone().date()
        day_key = f"{local_day:%Y%m%d}"
        ws.counters[day_key] = ws.counters.get(day_key, 0) + 1
        t["number"] = format_ticket_number(local_day, ws.counters[day_key])
    ws.tickets = tickets
    return ws


def _add_timeline(
    ws: DemoWorkspace,
    rng: random.Random,
    spec: dict[str, Any],
    ticket: dict[str, Any],
    status: TicketStatus,
    assignee: dict[str, Any] | None,
    now: datetime,
) -> None:
    at = ticket["created_at"]
    actor = ticket["created_by"]

    def event(kind: EventKind, text: str, actor_id: str | None) -> None:
        ws.events.append(
            {
                "id": _uid(rng),
                "ticket_id": ticket["id"],
                "kind": kind.value,
                "at": at,
                "actor_id": actor_id,
                "text": text,
                "data": "",
            }
        )

    event(EventKind.CREATED, "创建工单", actor)
    if assignee:
        at = min(now, at + timedelta(minutes=rng.randint(1, 20)))
        event(EventKind.ASSIGN, f"分配给 {assignee['name']}", actor)
    previous = TicketStatus.NEW
    for step in _PATHS[status]:
        at = min(now, at + timedelta(minutes=rng.randint(5, 240)))
        if step is TicketStatus.IN_PROGRESS:
            event(EventKind.REPLY, rng.choice(spec["replies"]), assignee["id"] if assignee else actor)
            ticket["first_response_at"] = at
        if rng.random() < 0.6:
            event(EventKind.NOTE, rng.choice(spec["notes"]), assignee["id"] if assignee else actor)
        event(
            EventKind.STATUS,
            f"状态：{STATUS_LABELS[previous]} → {STATUS_LABELS[step]}",
            assignee["id"] if assignee else actor,
        )
        if step is TicketStatus.RESOLVED:
            ticket["resolved_at"] = at
        if step is TicketStatus.CLOSED:
            ticket["closed_at"] = at
        previous = step
    ticket["updated_at"] = at
