"""设置 → 工作时间与节假日 in the service layer: reading what is in force, and importing a file
with a role check and errors that name the chosen file, its line and field."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.types import Role
from dyy_desk.services.audit import last_entries
from dyy_desk.services.auth_service import AccessDenied
from dyy_desk.services.business_hours_admin import import_schedule_file, read_schedule
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.sop_catalog import DataFileRejected

NIGHT = """timezone = "Asia/Shanghai"
[weekly]
mon = ["22:00-06:00"]
[calendar]
holidays = [2026-12-25, 2027-01-01]
makeup_workdays = [2026-12-27]
makeup_uses = "mon"
"""
BAD = """timezone = "Asia/Shanghai"
[weekly]
mon = ["09:00-12:00"]
tue = ["25:00-26:00"]
"""


@pytest.fixture
def people(empty_workspace: Any) -> dict[str, Any]:
    make = empty_workspace.directory.create_user
    return {"sup": make(name="赵敏", role=Role.SUPERVISOR)[0], "agent": make(name="李娜", role=Role.AGENT)[0]}


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_built_in_schedule_is_shown_until_one_is_imported(empty_workspace: Any) -> None:
    view = read_schedule(empty_workspace)
    assert view.updated_at is None and view.updated_by is None
    assert view.text == empty_workspace.sop.catalog.business_hours_text()
    assert view.schedule.weekly[0][0].label() == "09:00-12:00" and view.schedule.weekly[5] == ()
    assert view.holidays_from(date(2026, 10, 7)) == [date(2026, 10, 7)]


def test_supervisor_imports_a_schedule_which_the_sop_catalog_then_uses(
    empty_workspace: Any, people: dict[str, Any], tmp_path: Path, clock: FakeClock
) -> None:
    view, changes = import_schedule_file(
        empty_workspace, actor_id=people["sup"].id, path=_file(tmp_path, "night.toml", NIGHT)
    )
    assert changes.sop
    assert (view.updated_by, view.updated_at) == ("赵敏", clock.now())
    assert view.schedule.weekly[0][0].label() == "22:00-次日06:00"
    assert empty_workspace.sop.catalog.schedule().weekly[0][0].label() == "22:00-次日06:00"
    assert view.holidays_from(date(2026, 12, 26)) == [date(2027, 1, 1)]
    assert view.makeup_from(date(2026, 1, 1)) == [date(2026, 12, 27)]
    with empty_workspace.engine.connect() as conn:
        assert last_entries(conn)[-1].actor_id == people["sup"].id


def test_an_agent_may_look_but_not_import(
    empty_workspace: Any, people: dict[str, Any], tmp_path: Path
) -> None:
    before = read_schedule(empty_workspace).text
    with pytest.raises(AccessDenied, match="客服「李娜」无权"):
        import_schedule_file(
            empty_workspace, actor_id=people["agent"].id, path=_file(tmp_path, "n.toml", NIGHT)
        )
    assert read_schedule(empty_workspace).text == before


def test_a_bad_file_names_file_line_and_field_and_changes_nothing(
    empty_workspace: Any, people: dict[str, Any], tmp_path: Path
) -> None:
    before = read_schedule(empty_workspace).text
    with pytest.raises(DataFileRejected) as caught:
        import_schedule_file(
            empty_workspace, actor_id=people["sup"].id, path=_file(tmp_path, "排班.toml", BAD)
        )
    assert (caught.value.source, caught.value.line) == ("排班.toml", 4)
    assert "weekly.tue" in str(caught.value) and "未保存任何内容" in str(caught.value)
    assert read_schedule(empty_workspace).text == before


def test_unreadable_files_are_refused_plainly(
    empty_workspace: Any, people: dict[str, Any], tmp_path: Path
) -> None:
    binary = tmp_path / "x.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ServiceError, match="不是 UTF-8"):
        import_schedule_file(empty_workspace, actor_id=people["sup"].id, path=binary)
    with pytest.raises(ServiceError, match=r"无法读取 missing\.toml"):
        import_schedule_file(empty_workspace, actor_id=people["sup"].id, path=tmp_path / "missing.toml")
