"""Benchmark the escalation service end to end on a database of 100,000 tickets.

Tickets are inserted with Core bulk inserts into a temporary data folder (60 days of an agency's work:
the demo clients and shops, the usual mix of categories, products and tags, some platform
interventions). The service builds its rule index once (timed as build_ms, the first full pass);
then, run after run, one new 差评 ticket about a popular product arrives and
`run_rules(ticket_ids=[it])` is timed end to end: reading the ticket, updating the index,
evaluating, and writing any escalation with its history and timeline events in one transaction.

    python scripts/bench_escalation_db.py [--tickets N] [--runs R]

Human lines first; the last line is {"tickets": N, "eval_ms": <median>}; the target is ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from dyy_desk.core.clock import SystemClock
from dyy_desk.core.ids import new_id
from dyy_desk.core.types import Priority, TicketCategory, TicketStatus
from dyy_desk.db.repos.tables import tickets
from dyy_desk.infra.paths import resolve_paths
from dyy_desk.services.escalation_service import EscalationService
from dyy_desk.services.workspace import Seed, open_workspace

CATEGORY_WEIGHTS = {
    TicketCategory.PRESALE: 30,
    TicketCategory.RETURN_REFUND: 20,
    TicketCategory.REFUND_ONLY: 12,
    TicketCategory.EXCHANGE: 8,
    TicketCategory.LOGISTICS: 12,
    TicketCategory.QUALITY_COMPLAINT: 6,
    TicketCategory.NEGATIVE_REVIEW: 4,
    TicketCategory.INVOICE: 4,
    TicketCategory.DATA_LEAK: 0.05,
    TicketCategory.OTHER: 3.95,
}
PRODUCTS = ["坚果礼盒", "四件套", "蓝牙耳机", "羽绒被", "牛肉干", "充电宝", "枕头", "茶叶"]


def ticket_row(
    rng: random.Random, shop: object, n: int, created: datetime, **over: object
) -> dict[str, object]:
    category = (
        over.pop("category", None) or rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0]
    )
    old = created < datetime.now(UTC) - timedelta(days=3)
    status = (
        rng.choice([TicketStatus.RESOLVED, TicketStatus.CLOSED])
        if old and rng.random() < 0.97
        else TicketStatus.IN_PROGRESS
    )
    row: dict[str, object] = {
        "id": new_id(),
        "number": f"B{n:09d}",
        "client_id": shop.client_id,  # type: ignore[attr-defined]
        "shop_id": shop.id,  # type: ignore[attr-defined]
        "customer_id": None,
        "platform": shop.platform.value,  # type: ignore[attr-defined]
        "order_no": str(10**17 + n),
        "category": category.value,  # type: ignore[attr-defined]
        "priority": Priority.NORMAL.value,
        "status": status.value,
        "subject": f"工单 {n}",
        "product": rng.choice(PRODUCTS) if rng.random() < 0.6 else None,
        "tags": "|".join(rng.sample(["破损", "漏发", "色差", "物流慢", "尺码"], rng.randint(0, 2))),
        "assignee_id": None,
        "created_by": None,
        "platform_intervention": rng.random() < 0.002,
        "created_at": created,
        "updated_at": created,
        "first_response_at": None,
        "resolved_at": None,
        "closed_at": None,
        "due_at": None,
        "origin": "bench",
        "version": "",
        "deleted": False,
    }
    row.update(over)
    return row


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        clock = SystemClock()
        ws = open_workspace(resolve_paths(Path(tmp) / "data"), clock=clock, seed_if_new=Seed.DEMO)
        try:
            shops = ws.directory.shops()
            now = clock.now()
            started = time.perf_counter()
            with ws.engine.begin() as conn:
                batch: list[dict[str, object]] = []
                for n in range(args.tickets):
                    created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 60))
                    batch.append(ticket_row(rng, rng.choice(shops), n, created))
                    if len(batch) == 5000:
                        conn.execute(insert(tickets), batch)
                        batch = []
                if batch:
                    conn.execute(insert(tickets), batch)
            print(f"inserted {args.tickets} tickets in {time.perf_counter() - started:.1f} s")

            service = EscalationService(engine=ws.engine, clock=clock, origin="bench", tickets=ws.tickets)
            started = time.perf_counter()
            applied, _ = service.run_rules()
            build_ms = (time.perf_counter() - started) * 1000
            print(f"first full pass (index build + {len(applied)} actions applied): {build_ms:.0f} ms")
            started = time.perf_counter()
            assert service.run_rules()[0] == []
            print(f"second full pass (nothing to do): {(time.perf_counter() - started) * 1000:.0f} ms")

            busiest = shops[0]
            times: list[float] = []
            for i in range(args.runs):
                row = ticket_row(
                    rng,
                    busiest,
                    args.tickets + i,
                    clock.now(),
                    category=TicketCategory.NEGATIVE_REVIEW,
                    product="四件套",
                    status=TicketStatus.NEW.value,
                )
                with ws.engine.begin() as conn:
                    conn.execute(insert(tickets), [row])
                started = time.perf_counter()
                applied, _ = service.run_rules(ticket_ids=[str(row["id"])])
                times.append((time.perf_counter() - started) * 1000)
                print(f"run {i + 1}: {times[-1]:.1f} ms, {[(a.kind, a.rule_id) for a in applied]}")
        finally:
            ws.close()
    eval_ms = statistics.median(times)
    print(f"median {eval_ms:.1f} ms (target ≤ 200 ms)")
    print(json.dumps({"tickets": args.tickets, "eval_ms": round(eval_ms, 1), "build_ms": round(build_ms)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
