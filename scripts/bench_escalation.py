"""Benchmark escalation rules: evaluating all rules over 100,000 tickets after one ticket changes.

Tickets are synthetic but shaped like an agency's last 60 days: 40 clients with 3 shops each, the
usual mix of categories (差评 and quality complaints a minority, 信息泄露 rare), products and tags per
client, some platform interventions, and a few thousand open SOP steps. The index is built and
settled (every action applied) first; then, run after run, one new ticket arrives — a 差评 at the
busiest shop about a popular product — and the incremental evaluation of every rule is timed.

    python scripts/bench_escalation.py [--tickets N] [--runs R]

Human lines first; the last line is {"tickets": N, "eval_ms": <median>}; the target is ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dyy_desk.core.deadlines import DeadlineState  # noqa: E402
from dyy_desk.core.escalation_eval import RuleIndex, evaluate  # noqa: E402
from dyy_desk.core.escalation_lifecycle import apply_action  # noqa: E402
from dyy_desk.core.escalation_model import (  # noqa: E402
    Escalation,
    EscalationAction,
    EscalationSnapshot,
    SopStepFact,
    TicketFact,
)
from dyy_desk.core.escalation_rules import RuleSet, parse_rules  # noqa: E402
from dyy_desk.core.types import Platform, TicketCategory, TicketStatus  # noqa: E402

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
CATEGORY_WEIGHTS = {
    TicketCategory.PRESALE: 30,
    TicketCategory.RETURN_REFUND: 15,
    TicketCategory.REFUND_ONLY: 15,
    TicketCategory.LOGISTICS: 12,
    TicketCategory.QUALITY_COMPLAINT: 10,
    TicketCategory.NEGATIVE_REVIEW: 8,
    TicketCategory.EXCHANGE: 5,
    TicketCategory.INVOICE: 3,
    TicketCategory.OTHER: 1.9,
    TicketCategory.DATA_LEAK: 0.1,
}
TAGS = [
    "起球",
    "色差",
    "尺码偏小",
    "破损",
    "漏发",
    "异味",
    "受潮",
    "发货慢",
    "掉色",
    "开线",
    "少配件",
    "过期",
]
PLATFORMS = [Platform.TMALL, Platform.TAOBAO, Platform.JD, Platform.PDD, Platform.DOUYIN]


def make_tickets(count: int, rng: random.Random) -> list[TicketFact]:
    shops = [
        (f"c{c:02d}", f"c{c:02d}-s{s}", PLATFORMS[(c + s) % len(PLATFORMS)])
        for c in range(40)
        for s in range(3)
    ]
    weights = [1 + 20 * (i == 0) for i in range(len(shops))]  # shop 0 is the busiest
    categories, category_weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
    tickets = []
    for n in range(count):
        client, shop, platform = rng.choices(shops, weights)[0]
        created = NOW - timedelta(minutes=rng.randrange(60 * 24 * 60))
        age_days = (NOW - created).days
        status = TicketStatus.CLOSED if age_days > 3 else rng.choice(list(TicketStatus))
        tickets.append(
            TicketFact(
                id=f"t{n:06d}",
                client_id=client,
                shop_id=shop,
                platform=platform,
                category=rng.choices(categories, category_weights)[0],
                status=status,
                created_at=created,
                platform_intervention=rng.random() < 0.01,
                product=f"{client}-p{rng.randrange(30)}" if rng.random() < 0.8 else None,
                tags=frozenset(rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2)))),
            )
        )
    return tickets


def make_steps(tickets: list[TicketFact], rng: random.Random) -> list[SopStepFact]:
    open_tickets = [t for t in tickets if t.status is not TicketStatus.CLOSED]
    return [
        SopStepFact(
            t.id, "review", rng.choice(list(DeadlineState)), NOW + timedelta(hours=rng.randint(-5, 48))
        )
        for t in rng.sample(open_tickets, min(5000, len(open_tickets)))
    ]


def settle(
    index: RuleIndex,
    escalations: dict[str, Escalation],
    actions: list[EscalationAction],
    rules: RuleSet,
    new_id: Callable[[], str],
) -> None:
    for action in actions:
        done = apply_action(action, open_escalations=escalations, now=NOW, rules=rules, new_id=new_id)
        if done is not None:
            escalations[done.escalation.id] = done.escalation
            index.put_escalation(done.escalation)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    rules = parse_rules(
        (ROOT / "resources" / "escalation_rules.toml").read_text(encoding="utf-8"), "escalation_rules.toml"
    )
    rng = random.Random(20261123)
    tickets = make_tickets(args.tickets, rng)
    steps = make_steps(tickets, rng)
    ids = (f"esc-{n}" for n in itertools.count())

    def new_id() -> str:
        return next(ids)

    started = time.perf_counter()
    index = RuleIndex(rules, EscalationSnapshot(tickets=tuple(tickets), steps=tuple(steps)))
    build_ms = (time.perf_counter() - started) * 1000
    escalations: dict[str, Escalation] = {}
    started = time.perf_counter()
    first = index.evaluate_all(NOW)
    full_ms = (time.perf_counter() - started) * 1000
    settle(index, escalations, first, rules, new_id)
    snapshot = EscalationSnapshot(
        tickets=tuple(tickets), steps=tuple(steps), open_escalations=tuple(escalations.values())
    )
    assert evaluate(snapshot, NOW, rules) == [], "settled index must be at a fixed point"
    print(f"{len(tickets)} tickets, {len(steps)} SOP steps, {len(rules.rules)} rules")
    print(f"index build {build_ms:.0f} ms; first full evaluation {full_ms:.0f} ms -> {len(first)} actions")

    timings, fired = [], 0
    for run in range(args.runs):
        arriving = TicketFact(
            id=f"new{run:03d}",
            client_id="c00",
            shop_id="c00-s0",
            platform=Platform.TMALL,
            category=TicketCategory.NEGATIVE_REVIEW,
            status=TicketStatus.NEW,
            created_at=NOW,
            product="c00-p1",
            tags=frozenset({"起球"}),
        )
        started = time.perf_counter()
        index.put_ticket(arriving)
        actions = index.evaluate_changed(NOW, ticket_ids=[arriving.id])
        timings.append((time.perf_counter() - started) * 1000)
        fired += len(actions)
        settle(index, escalations, actions, rules, new_id)
    started = time.perf_counter()
    index.evaluate_all(NOW)
    print(f"full evaluation (timer pass) at the fixed point: {(time.perf_counter() - started) * 1000:.0f} ms")
    median, worst = statistics.median(timings), max(timings)
    print(
        f"one changed ticket: median {median:.2f} ms, max {worst:.2f} ms ({args.runs} runs, {fired} actions)"
    )
    print(json.dumps({"tickets": len(tickets), "eval_ms": round(median, 3)}))


if __name__ == "__main__":
    main()
