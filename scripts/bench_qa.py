"""Benchmark QA sampling: 10 % of 100,000 closed tickets across 50 agents in one week window.

Prints a few human lines, then as the last line a JSON object
{"tickets": 100000, "sample_ms": <median of 5 draws>}; the target is ≤ 2000 ms.
Run from the repository root: `python scripts/bench_qa.py [--tickets N] [--runs R]`.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dyy_desk.core.qa_sampling import (
    SampleCandidate,
    SamplingPeriod,
    SamplingPlan,
    draw_sample,
    redraw,
)
from dyy_desk.core.types import Platform, Role, TicketCategory, UserRow

WEEK_START = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # Monday 2026-11-23 00:00 in China


def make_candidates(count: int, agents: int, seed: int = 7) -> list[SampleCandidate]:
    rng = random.Random(seed)
    platforms = list(Platform)
    categories = list(TicketCategory)
    clients = [f"client-{i:02d}" for i in range(12)]
    result = []
    for n in range(count):
        flag = rng.random()
        result.append(
            SampleCandidate(
                ticket_id=f"t-{n:07d}",
                agent_id=f"agent-{rng.randrange(agents):02d}",
                client_id=rng.choice(clients),
                platform=rng.choice(platforms),
                category=rng.choice(categories),
                closed_at=WEEK_START + timedelta(seconds=rng.randrange(7 * 24 * 3600)),
                escalated=flag < 0.01,
                complained=0.01 <= flag < 0.02,
                missed_deadline=0.02 <= flag < 0.025,
            )
        )
    rng.shuffle(result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    candidates = make_candidates(args.tickets, args.agents)
    plan = SamplingPlan(id="p1", name="每周 10%", period=SamplingPeriod.WEEK, percent=Decimal(10), minimum=5)
    actor = UserRow("sup-1", "王主管", Role.SUPERVISOR)
    timings = []
    draw = None
    for _ in range(args.runs):
        started = time.perf_counter()
        draw = draw_sample(
            plan, candidates, actor=actor, day=date(2026, 11, 25), seed=20261123, now=WEEK_START
        )
        timings.append((time.perf_counter() - started) * 1000)
    assert draw is not None
    started = time.perf_counter()
    same = redraw(draw) == draw
    redraw_ms = (time.perf_counter() - started) * 1000
    print(f"candidates in window: {len(draw.candidates)}, picked: {len(draw.picks)}")
    print(
        f"runs (ms): {', '.join(f'{t:.0f}' for t in timings)}; redraw {redraw_ms:.0f} ms, identical: {same}"
    )
    print(json.dumps({"tickets": args.tickets, "sample_ms": round(statistics.median(timings), 1)}))


if __name__ == "__main__":
    main()
