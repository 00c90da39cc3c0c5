"""Sync benchmark: 100,000 tickets with 500,000 timeline events, exported and imported into a fresh
workspace through the real services (stamping, streaming bundle, validation, merge, apply).

Prints progress, then the time per phase of the export and the import (the profile breakdown),
then as its last line one JSON object:
{"tickets": 100000, "events": 500000, "export_s": …, "import_s": …, "peak_rss_mb": …}
Targets: export ≤ 20 s, import ≤ 40 s, peak RSS ≤ 500 MB.  `--tickets N` for a quick run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
EVENTS_PER_TICKET = 5


def generate(engine: object, count: int, origin: str) -> None:
    from sqlalchemy import Engine, insert

    from dyy_desk.core.ids import new_id
    from dyy_desk.core.ticket_numbers import format_ticket_number
    from dyy_desk.core.types import EventKind, Platform, Priority, TicketCategory, TicketStatus
    from dyy_desk.db.repos.tables import clients, customers, shops, ticket_events, tickets, users

    assert isinstance(engine, Engine)
    rng = random.Random(7)
    now = datetime.now(UTC)
    sync = {"origin": origin, "version": "", "deleted": False}
    agent_ids = [new_id() for _ in range(8)]
    client_ids = [new_id() for _ in range(3)]
    shop_rows = [
        {
            "id": new_id(),
            "client_id": client_ids[i % 3],
            "name": f"店铺{i}",
            "platform": p.value,
            "created_at": now,
        }
        | sync
        for i, p in enumerate(list(Platform)[:6])
    ]
    customer_rows = [
        {
            "id": new_id(),
            "client_id": s["client_id"],
            "platform": s["platform"],
            "nick": f"买家{i:05d}",
            "phone": f"138{i:08d}",
            "address": "浙江省杭州市西湖区文三路 100 号",
            "created_at": now,
        }
        | sync
        for i, s in ((i, rng.choice(shop_rows)) for i in range(20_000))
    ]
    words = ["退款", "换货", "物流", "发票", "破损", "尺码", "颜色", "地址", "差评", "补发", "漏发", "价保"]
    with engine.begin() as conn:
        conn.execute(
            insert(users),
            [
                {"id": a, "name": f"客服{i}", "role": "agent", "created_at": now} | sync
                for i, a in enumerate(agent_ids)
            ],
        )
        conn.execute(
            insert(clients),
            [{"id": c, "name": f"品牌{i}", "created_at": now} | sync for i, c in enumerate(client_ids)],
        )
        conn.execute(insert(shops), shop_rows)
        conn.execute(insert(customers), customer_rows)
        batch_t: list[dict[str, object]] = []
        batch_e: list[dict[str, object]] = []
        for i in range(count):
            customer = customer_rows[rng.randrange(len(customer_rows))]
            shop = next(s for s in shop_rows if s["client_id"] == customer["client_id"])
            created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 90))
            ticket_id = new_id()
            batch_t.append(
                {
                    "id": ticket_id,
                    "number": format_ticket_number(created.date(), i % 9999 + 1) + f"{i // 9999:02d}",
                    "client_id": shop["client_id"],
                    "shop_id": shop["id"],
                    "customer_id": customer["id"],
                    "platform": shop["platform"],
                    "order_no": str(10**17 + i),
                    "category": rng.choice(list(TicketCategory)).value,
                    "priority": rng.choice(list(Priority)).value,
                    "status": rng.choice(list(TicketStatus)).value,
                    "subject": f"{rng.choice(words)}{rng.choice(words)}问题 {i}",
                    "product": None,
                    "tags": "",
                    "assignee_id": rng.choice(agent_ids),
                    "created_by": None,
                    "platform_intervention": False,
                    "created_at": created,
                    "updated_at": created,
                    "due_at": created + timedelta(hours=24) if rng.random() < 0.6 else None,
                }
                | sync
            )
            for k in range(EVENTS_PER_TICKET):
                batch_e.append(
                    {
                        "id": new_id(),
                        "ticket_id": ticket_id,
                        "kind": EventKind.NOTE.value,
                        "at": created + timedelta(minutes=k),
                        "actor_id": rng.choice(agent_ids),
                        "text": f"事件 {k}：已联系买家，等待回复",
                        "data": "",
                        "origin": origin,
                    }
                )
            if len(batch_t) == 5000:
                conn.execute(insert(tickets), batch_t)
                conn.execute(insert(ticket_events), batch_e)
                batch_t, batch_e = [], []
        if batch_t:
            conn.execute(insert(tickets), batch_t)
            conn.execute(insert(ticket_events), batch_e)


def cpu_times() -> tuple[float, float]:
    """(user, sys) CPU seconds of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def print_phases(totals: dict[str, tuple[float, float, float]]) -> None:
    """Where the time went, per phase of the export and the import (stdout, above the JSON line):
    wall time and the CPU time of the thread that ran the phase. On a shared machine the CPU time
    is what code changes move; the process total (all threads) shows how much of the wall time the
    other processes took. Phases marked "(worker thread)" overlap the others, so rows may add up
    to more than the total."""
    from dyy_desk.services.sync_phases import LATEST

    for kind, (total, user, system) in totals.items():
        phases = LATEST.get(kind)
        if phases is None:
            continue
        print(f"{kind}: {total:.2f} s wall, {user + system:.2f} s CPU (user {user:.2f}, sys {system:.2f})")
        print(f"  {'phase':<40} {'wall s':>7} {'CPU s':>7}")
        for name, seconds in sorted(phases.seconds.items(), key=lambda item: -item[1]):
            print(f"  {name:<40} {seconds:7.2f} {phases.cpu.get(name, 0.0):7.2f}")
        other = total - sum(phases.seconds.values())
        print(f"  {'(other, wall)':<40} {other:7.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()

    from dyy_desk.core.clock import SystemClock
    from dyy_desk.infra.bundle_crypto import format_team_key, generate_team_key
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.infra.secrets import TeamKeyStore
    from dyy_desk.services.sync_team import SyncService
    from dyy_desk.services.workspace import Seed, open_workspace

    os.environ["DYY_DESK_TEAM_KEY"] = format_team_key(generate_team_key())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        machines = []
        for name in ("a", "b"):
            paths = resolve_paths(root / name)
            ws = open_workspace(paths, clock=SystemClock(), seed_if_new=Seed.EMPTY)
            sync = SyncService(
                engine=ws.engine,
                clock=ws.clock,
                machine_id=ws.machine_id,
                keys=TeamKeyStore(paths.config_dir),
            )
            sync.join_team(key_text=os.environ["DYY_DESK_TEAM_KEY"], name=f"电脑{name.upper()}")
            machines.append((ws, sync))
        (ws_a, sync_a), (ws_b, sync_b) = machines
        print(f"generating {args.tickets} tickets …", file=sys.stderr)
        generate(ws_a.engine, args.tickets, ws_a.machine_id)
        bundle = root / "bench.dyyb"
        start, (user, system) = time.perf_counter(), cpu_times()
        result = sync_a.export(out=bundle)
        export_s = time.perf_counter() - start
        export_cpu = (cpu_times()[0] - user, cpu_times()[1] - system)
        print(f"export: {export_s:.1f} s, {result.size_bytes / 1e6:.1f} MB, {result.counts}", file=sys.stderr)
        start, (user, system) = time.perf_counter(), cpu_times()
        report = sync_b.apply(path=bundle, on_tickets_changed=ws_b.tickets.invalidate_queue)
        import_s = time.perf_counter() - start
        import_cpu = (cpu_times()[0] - user, cpu_times()[1] - system)
        print(f"import: {import_s:.1f} s, {[(t.table, t.new) for t in report.tables]}", file=sys.stderr)
        events = next(t.new for t in report.tables if t.table == "ticket_event")
        tickets = next(t.new for t in report.tables if t.table == "ticket")
        for ws, _ in machines:
            ws.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print_phases({"export": (export_s, *export_cpu), "import": (import_s, *import_cpu)})
    print(
        json.dumps(
            {
                "tickets": tickets,
                "events": events,
                "export_s": round(export_s, 2),
                "import_s": round(import_s, 2),
                "peak_rss_mb": round(peak, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
