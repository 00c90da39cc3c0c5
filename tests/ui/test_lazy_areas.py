"""Areas are built when first opened, and then behave as if they had been there all along."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from dyy_desk.ui.widgets.lazy_area import LazyArea
from tests.ui.conftest import settle

# Modules the first paint must not wait for (each area's service or panel).
AREA_MODULES = (
    "dyy_desk.services.library_service",
    "dyy_desk.services.qa_service",
    "dyy_desk.services.escalation_service",
    "dyy_desk.services.sync_team",
    "dyy_desk.services.sop_service",
    "dyy_desk.ui.panels.library_panel",
    "dyy_desk.ui.panels.qa_panel",
    "dyy_desk.ui.panels.escalation_panel",
    "dyy_desk.ui.panels.checklist_panel",
    "dyy_desk.ui.sync_controller",
    "jieba",
)

CHILD = """
import json, sys
from dyy_desk.app import run_gui
from dyy_desk.infra.paths import resolve_paths

def ready(window):
    loaded = [name for name in json.loads(sys.argv[2]) if name in sys.modules]
    print("LOADED " + json.dumps(loaded), flush=True)
    window.close()

sys.exit(run_gui(resolve_paths(sys.argv[1]), on_ready=ready))
"""


def test_first_paint_does_not_import_the_other_areas(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    data = tmp_path / "data"
    subprocess.run(
        [sys.executable, "-m", "dyy_desk", "--data-dir", str(data), "init", "--demo"],
        check=True,
        env=env,
        capture_output=True,
    )
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(data), json.dumps(AREA_MODULES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("LOADED ")]
    assert lines, result.stderr[-2000:]
    assert json.loads(lines[0].removeprefix("LOADED ")) == []


def _lazy(window: Any, title: str) -> LazyArea:
    area = window._lazy_areas[title]
    assert isinstance(area, LazyArea)
    return area


def test_area_is_built_on_first_show_for_the_current_user(qtbot: Any, window: Any) -> None:
    supervisor = next(u for u in window.workspace.directory.users() if u.name == "赵敏")
    window.set_user(supervisor)
    area = _lazy(window, "质检")
    assert not area.is_built
    window.nav.show_area(4)  # 质检
    settle(window)
    assert area.is_built
    panel = window.qa_panel
    assert panel.user == supervisor
    assert panel.pages.currentIndex() == 1  # the supervisors' page, not the agents'


def test_checklist_is_built_when_the_first_ticket_is_opened(qtbot: Any, window: Any) -> None:
    assert window._checklist is None
    window.queue.table.selectRow(0)
    settle(window)
    assert window._checklist is not None
    assert window.checklist.ticket_id == window.queue.selected_ticket_id()
    assert window.checklist._user == window.user


def test_library_context_built_late_follows_the_selected_ticket(qtbot: Any, window: Any) -> None:
    window.queue.table.selectRow(0)
    settle(window)
    assert window._library_context is None
    context = window.library_context
    settle(window)
    assert context.user == window.user
    assert context.ticket_id == window.queue.selected_ticket_id()
    assert context.detail is not None and context.detail.row.id == context.ticket_id


def test_a_background_reload_leaves_the_agent_in_the_area_they_are_in(qtbot: Any, window: Any) -> None:
    from dyy_desk.core.changes import Changes

    window.queue.table.selectRow(0)
    settle(window)
    selected = window.queue.selected_ticket_id()
    window.nav.show_area(3)  # 升级
    settle(window)
    shown: list[object] = []
    window.signals.ticket_selected.connect(shown.append)
    window.signals.operation_did_execute.emit(Changes(tickets=True, ticket_ids=(selected,)), None)
    settle(window)
    assert window.areas.currentIndex() == 3
    assert window.queue.selected_ticket_id() == selected  # still selected, not announced again
    assert shown == []


def test_settings_area_is_wired_and_a_new_user_reaches_the_header(qtbot: Any, window: Any) -> None:
    from dyy_desk.core.types import Role
    from dyy_desk.services.user_admin import UserAdminService

    window.nav.show_area(6)  # 设置
    settle(window)
    assert _lazy(window, "设置").is_built
    ws = window.workspace
    admin = UserAdminService(engine=ws.engine, clock=ws.clock, origin=ws.machine_id)
    supervisor = next(u for u in ws.directory.users() if u.name == "赵敏")
    me = window.user
    _row, changes = admin.add_user(actor_id=supervisor.id, name="周杰", role=Role.AGENT)
    window.signals.operation_did_execute.emit(changes, None)
    settle(window)
    names = [window.header.user_combo.itemText(i) for i in range(window.header.user_combo.count())]
    assert any(name.startswith("周杰") for name in names)
    assert window.user == me
    assert window.header.user_combo.currentData() == me


def test_every_area_opens_a_real_panel(qtbot: Any, window: Any) -> None:
    for row in range(1, window.nav.model().rowCount()):
        window.nav.show_area(row)
        settle(window)
        assert window.areas.currentIndex() == row
    assert all(area.is_built for area in window._lazy_areas.values())
    assert len(window._lazy_areas) == window.nav.model().rowCount() - 1  # all but 工单 itself
