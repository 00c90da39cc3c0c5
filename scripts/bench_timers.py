"""Countdown cost: 1,000 open checklists with 5,000 live deadlines in the real main window, ticking.

QT_QPA_PLATFORM=offscreen python scripts/bench_timers.py [--seconds 60]
Prints the CPU share of the process (process_time / wall time) and the longest tick handler; the last
line is JSON. Targets: at most 5 % of one core, no tick over 16 ms (one frame).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CHECKLISTS = 1000
DEADLINES_PER_CHECKLIST = 5


def _fill(engine: object, origin: str, now: datetime) -> int:
    """Core bulk inserts: tickets, their checklists (exchange.default) and platform deadlines."""
    from sqlalchemy import Engine, insert, select

    from dyy_desk.core.ids import new_id
    from dyy_desk.db.repos.tables import clients, shops, tickets
    from dyy_desk.services.sop_store import checklists_t, steps_t

    assert isinstance(engine, Engine)
    steps = ["check_stock", "review", "track_return", "inspect", "ship_replacement", "notify_buyer"]
    ticket_rows, checklist_rows, step_rows = [], [], []
    with engine.begin() as conn:
        shop = conn.execute(select(shops.c.id, shops.c.client_id, shops.c.platform)).first()
        assert shop is not None and conn.execute(select(clients.c.id)).first() is not None
        for n in range(CHECKLISTS):
            ticket_id, checklist_id = new_id(), new_id()
            first = now + timedelta(minutes=5 + n * 7)  # spread: some due soon, most on track
            ticket_rows.append(
                dict(
                    id=ticket_id,
                    number=f"B{n:06d}",
                    client_id=shop.client_id,
                    shop_id=shop.id,
                    customer_id=None,
                    platform=shop.platform,
                    order_no=None,
                    category="exchange",
                    priority="normal",
                    status="in_progress",
                    subject=f"压测换货 {n}",
                    product=None,
                    tags="",
                    assignee_id=None,
                    created_by=None,
                    platform_intervention=False,
                    created_at=now,
                    updated_at=now,
                    first_response_at=None,
                    resolved_at=None,
                    closed_at=None,
                    due_at=first,
                    origin=origin,
                    version="",
                    deleted=False,
                )
            )
            checklist_rows.append(
                dict(
                    id=checklist_id,
                    ticket_id=ticket_id,
                    template_id="exchange.default",
                    template_version=1,
                    started_at=now,
                    started_by="bench",
                    amount="129.00",
                    ticket_due_before=None,
                    origin=origin,
                    version="",
                    deleted=False,
                )
            )
            for position, step_id in enumerate(steps):
                deadline = first + timedelta(hours=position) if position < DEADLINES_PER_CHECKLIST else None
                step_rows.append(
                    dict(
                        id=new_id(),
                        checklist_id=checklist_id,
                        step_id=step_id,
                        position=position,
                        status="open",
                        closed_by=None,
                        closed_at=None,
                        skip_reason="",
                        platform_deadline=deadline,
                        platform_deadline_by="bench" if deadline else None,
                        platform_deadline_entered_at=now if deadline else None,
                        manual_deadline=None,
                        manual_deadline_by=None,
                        manual_deadline_entered_at=None,
                        origin=origin,
                        version="",
                        deleted=False,
                    )
                )
        conn.execute(insert(tickets), ticket_rows)
        conn.execute(insert(checklists_t), checklist_rows)
        conn.execute(insert(steps_t), step_rows)
    return sum(1 for s in step_rows if s["platform_deadline"] is not None)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from dyy_desk.core.clock import SystemClock
    from dyy_desk.core.ticket_query import QueueView
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.infra.settings import Settings
    from dyy_desk.services.sop_service import SopService
    from dyy_desk.services.workspace import Seed, open_workspace
    from dyy_desk.ui.main_window import MainWindow
    from dyy_desk.ui.panels.checklist_panel import ChecklistPanel

    app = QApplication([])
    tmp = tempfile.TemporaryDirectory()
    clock = SystemClock()
    workspace = open_workspace(resolve_paths(Path(tmp.name) / "data"), clock=clock, seed_if_new=Seed.DEMO)
    deadlines = _fill(workspace.engine, workspace.machine_id, clock.now().astimezone(UTC))
    sop = SopService(
        engine=workspace.engine, clock=clock, origin=workspace.machine_id, tickets=workspace.tickets
    )
    window = MainWindow(workspace=workspace, settings=Settings())
    # the checklist panel of the selected ticket ticks too, as it will inside the detail panel
    panel = ChecklistPanel(sop=sop, runner=window.runner, signals=window.signals, clock_now=clock.now)
    window.detail._stack.widget(1).layout().insertWidget(3, panel)  # type: ignore[attr-defined]

    durations: list[float] = []
    window._ticker.timeout.disconnect(window.signals.tick)

    def timed_tick() -> None:
        start = time.perf_counter()
        window.signals.tick.emit()
        durations.append(time.perf_counter() - start)

    window._ticker.timeout.connect(timed_tick)
    result: dict[str, object] = {}

    def measure() -> None:
        durations.clear()
        wall0, cpu0 = time.perf_counter(), time.process_time()

        def finish() -> None:
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            result.update(
                deadlines=deadlines,
                cpu_percent=round(100 * cpu / wall, 2),
                max_tick_ms=round(1000 * max(durations, default=0.0), 2),
                ticks=len(durations),
                visible_rows=window.queue.table.viewport().height()
                // max(1, window.queue.table.rowHeight(0)),
            )
            window.close()
            app.quit()

        QTimer.singleShot(int(args.seconds * 1000), finish)

    def on_ready() -> None:
        window.queue.set_view(QueueView.ALL)
        window.queue.table.selectRow(0)
        ticket_id = window.queue.model.ticket_id(0)
        panel.show_ticket(ticket_id)
        QTimer.singleShot(3000, measure)  # let the index load and the first page paint settle

    window.ready.connect(on_ready)
    window.resize(1366, 768)
    window.show()
    app.exec()
    workspace.close()
    tmp.cleanup()
    print(f"ticks={result.get('ticks')} visible_rows={result.get('visible_rows')}")
    summary = {k: result[k] for k in ("deadlines", "cpu_percent", "max_tick_ms")}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
