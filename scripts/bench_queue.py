"""Queue benchmark: 100,000 tickets with 5 timeline events each, measured in the real queue view.

Prints progress, then as its last line one JSON object:
{"tickets": 100000, "open_ms": …, "filter_ms": …, "sort_ms": …, "peak_rss_mb": …, "peak_rss_mb_5_runs": …}
(times are medians of 5). Targets: open ≤ 1000 ms, filter ≤ 150 ms, sort by due time ≤ 150 ms, peak RSS
≤ 400 MB. `peak_rss_mb` is the peak of the first run: one app session from open through maintenance,
filter and sort, as an agent has it. The five runs share one process, and the freed memory of earlier
windows is not returned to the OS, so `peak_rss_mb_5_runs` (the whole process) is printed as well.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RUNS = 5


def generate(data_dir: Path, count: int) -> None:
    from sqlalchemy import insert

    from dyy_desk.core.clock import SystemClock
    from dyy_desk.core.ids import new_id
    from dyy_desk.core.ticket_numbers import format_ticket_number
    from dyy_desk.core.types import EventKind, Priority, TicketCategory, TicketStatus
    from dyy_desk.db.repos.tables import customers, ticket_events, tickets
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.services.workspace import Seed, open_workspace

    rng = random.Random(7)
    ws = open_workspace(resolve_paths(data_dir), clock=SystemClock(), seed_if_new=Seed.DEMO)
    shops = ws.directory.shops()
    agents = ws.directory.users()
    now = datetime.now(UTC)
    words = ["退款", "换货", "物流", "发票", "破损", "尺码", "颜色", "地址", "差评", "补发", "漏发", "价保"]
    customer_rows = [
        {
            "id": new_id(),
            "client_id": s.client_id,
            "platform": s.platform.value,
            "nick": f"买家{i:05d}",
            "phone": f"138{i:08d}",
            "address": "浙江省杭州市西湖区",
            "created_at": now,
            "origin": "bench",
            "version": "",
            "deleted": False,
        }
        for i, s in ((i, rng.choice(shops)) for i in range(20_000))
    ]
    statuses = list(TicketStatus)
    categories = list(TicketCategory)
    with ws.engine.begin() as conn:
        conn.execute(insert(customers), customer_rows)
        batch_t: list[dict[str, object]] = []
        batch_e: list[dict[str, object]] = []
        for i in range(count):
            customer = customer_rows[rng.randrange(len(customer_rows))]
            shop = next(s for s in shops if s.client_id == customer["client_id"])
            created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 90))
            ticket_id = new_id()
            batch_t.append(
                {
                    "id": ticket_id,
                    "number": format_ticket_number(created.date(), i % 9999 + 1) + f"{i // 9999:02d}",
                    "client_id": shop.client_id,
                    "shop_id": shop.id,
                    "customer_id": customer["id"],
                    "platform": shop.platform.value,
                    "order_no": str(10**17 + i),
                    "category": rng.choice(categories).value,
                    "priority": rng.choice(list(Priority)).value,
                    "status": rng.choice(statuses).value,
                    "subject": f"{rng.choice(words)}{rng.choice(words)}问题 {i}",
                    "product": None,
                    "tags": "",
                    "assignee_id": rng.choice(agents).id,
                    "created_by": None,
                    "platform_intervention": False,
                    "created_at": created,
                    "updated_at": created,
                    "due_at": created + timedelta(hours=rng.choice([24, 48])) if rng.random() < 0.6 else None,
                    "origin": "bench",
                    "version": "",
                    "deleted": False,
                }
            )
            for k in range(5):
                batch_e.append(
                    {
                        "id": new_id(),
                        "ticket_id": ticket_id,
                        "kind": EventKind.NOTE.value,
                        "at": created + timedelta(minutes=k),
                        "actor_id": None,
                        "text": f"事件 {k}",
                        "data": "",
                        "origin": "bench",
                    }
                )
            if len(batch_t) == 5000:
                conn.execute(insert(tickets), batch_t)
                conn.execute(insert(ticket_events), batch_e)
                batch_t, batch_e = [], []
        if batch_t:
            conn.execute(insert(tickets), batch_t)
            conn.execute(insert(ticket_events), batch_e)
    ws.close()


def wait_for(signal: object, trigger: object) -> float:
    """Run `trigger`, wait for `signal`, return the elapsed milliseconds."""
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    start = time.perf_counter()
    trigger()  # type: ignore[operator]
    loop.exec()
    signal.disconnect(loop.quit)  # type: ignore[attr-defined]
    return (time.perf_counter() - start) * 1000


def measure(data_dir: Path) -> dict[str, float]:
    """Each run opens the workspace afresh (cold queue index), as an agent starting the app does."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from dyy_desk.core.clock import SystemClock
    from dyy_desk.core.ticket_query import QueueView
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.infra.settings import Settings
    from dyy_desk.services.workspace import open_workspace
    from dyy_desk.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    opens, completes, filters, sorts = [], [], [], []
    session_peaks: list[float] = []
    cpu: dict[str, list[float]] = {"open": [], "filter": [], "sort": []}  # all threads: less noisy than wall
    for _ in range(RUNS):
        cpu_start = time.process_time()
        start = time.perf_counter()
        ws = open_workspace(resolve_paths(data_dir), clock=SystemClock())
        window = MainWindow(workspace=ws, settings=Settings())
        window.resize(1366, 768)
        queue = window.queue

        def show_all(w: MainWindow = window) -> None:
            w.show()
            w.queue.set_view(QueueView.ALL)  # the largest view: every ticket

        wait_for(queue.rows_shown, show_all)
        queue.table.viewport().repaint()  # rows are fetched as they are painted
        opens.append((time.perf_counter() - start) * 1000)
        cpu["open"].append((time.process_time() - cpu_start) * 1000)
        if not queue.model.is_complete():
            wait_for(queue.ids_loaded, lambda: None)
        completes.append((time.perf_counter() - start) * 1000)
        assert queue.model.rowCount() >= 100_000 or "--tickets" in sys.argv
        # Steady state for filter and sort: maintenance (rule pass, deadline scan) and the search texts
        # have run, and their results have been delivered.
        window._start_maintenance()
        for _ in range(10):
            window.runner.wait_idle()
            app.processEvents()

        def type_filter(q: object = queue) -> None:
            q.search_edit.blockSignals(True)  # time the query, not the typing debounce
            q.search_edit.setText("退款破损")
            q.search_edit.blockSignals(False)
            q.reload()

        cpu_start = time.process_time()
        filters.append(wait_for(queue.ids_loaded, type_filter))
        cpu["filter"].append((time.process_time() - cpu_start) * 1000)
        queue.table.viewport().repaint()

        def clear_filter(q: object = queue) -> None:
            q.search_edit.blockSignals(True)  # else the debounce timer fires inside the sort's timing
            q.search_edit.clear()
            q.search_edit.blockSignals(False)
            q.reload()

        wait_for(queue.ids_loaded, clear_filter)
        cpu_start = time.process_time()
        start = time.perf_counter()
        wait_for(queue.ids_loaded, lambda q=queue: q.model.sort(0, Qt.SortOrder.DescendingOrder))
        queue.table.viewport().repaint()
        sorts.append((time.perf_counter() - start) * 1000)
        cpu["sort"].append((time.process_time() - cpu_start) * 1000)
        window.close()
        ws.close()
        window.deleteLater()
        app.processEvents()
        del window, ws
        gc.collect()  # one run's indexes must not inflate the next run's peak
        peak_so_far = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        session_peaks.append(peak_so_far)
        print(f"run {len(opens)}: open {opens[-1]:.0f} ms, peak RSS so far {peak_so_far:.0f} MB", flush=True)
    medians = {k: round(statistics.median(v)) for k, v in cpu.items()}
    print("cpu_ms (medians, all threads): " + json.dumps(medians), flush=True)
    return {
        "open_ms": statistics.median(opens),
        "filter_ms": statistics.median(filters),
        "sort_ms": statistics.median(sorts),
        "peak_rss_mb": session_peaks[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--keep", metavar="DIR", help="reuse/keep the generated data folder here")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dyy-bench-queue-"))
    if not (folder / "dyy_desk.sqlite3").exists():
        start = time.perf_counter()
        generate(folder, args.tickets)
        print(f"generated {args.tickets} tickets in {time.perf_counter() - start:.1f} s", flush=True)
    result = measure(folder)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "tickets": args.tickets,
                **{k: round(v, 1) for k, v in result.items()},
                "peak_rss_mb_5_runs": round(peak, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
