"""The 知识库与话术 area on the demo workspace: search as you type off the GUI thread, highlighting, copy
with placeholders from the selected ticket, the unfilled-placeholder form, scope, roles, import, export.

One demo workspace (and one index load) per module keeps this fast; tests that write use unique text.
"""

from __future__ import annotations

import functools
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.library_rows import LibraryKind
from dyy_desk.core.search import SearchEngine
from dyy_desk.core.ticket_query import QueueView, TicketQuery
from dyy_desk.infra.paths import resolve_paths
from dyy_desk.services.library_search import LibrarySearch, default_search_engine
from dyy_desk.services.library_service import LibraryService
from dyy_desk.ui.library_context import LibraryContext
from dyy_desk.ui.library_search_view import LOADING_TEXT, WEAK_TEXT
from dyy_desk.ui.models.library_models import LibrarySearcher
from dyy_desk.ui.panels.library_panel import LibraryPanel
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.widgets.highlight_delegate import MARK_STYLE
from dyy_desk.ui.widgets.toast import Toast


@functools.cache
def shared_search_engine() -> SearchEngine:
    """jieba loads once per test process; each module's index is cleared when the module ends."""
    return default_search_engine(Path(tempfile.mkdtemp(prefix="dyy-jieba-")))


def library_workspace(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Any]:
    """A demo workspace with its library index loaded, for one test module (also used by the popup
    and 小窗 tests)."""
    from dyy_desk.services.workspace import Seed, open_workspace

    paths = resolve_paths(tmp_path_factory.mktemp(name) / "data")
    clock = FakeClock(datetime(2026, 11, 23, 9, tzinfo=UTC))
    workspace = open_workspace(paths, clock=clock, seed_if_new=Seed.DEMO)
    workspace.library.index = LibrarySearch(engine=workspace.engine, make_engine=shared_search_engine)
    workspace.library.index.load()
    yield workspace
    workspace.library.index.clear()
    workspace.close()


def some_tickets(ws: Any, count: int = 40) -> list[str]:
    return ws.tickets.query_page(query=TicketQuery(view=QueueView.ALL), limit=count).ids


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from library_workspace(tmp_path_factory, "library_ui")


def make_panel(
    qtbot: Any, ws: Any, library: LibraryService | None = None, user: str = "李娜"
) -> LibraryPanel:
    signals = AppSignals()
    runner = TaskRunner()
    context = LibraryContext(
        library=library or ws.library, tickets=ws.tickets, runner=runner, signals=signals
    )
    panel = LibraryPanel(context=context, directory=ws.directory)
    panel._test_keep = (signals, runner)  # type: ignore[attr-defined]
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    signals.user_changed.emit(user_named(ws, user))
    return panel


@pytest.fixture
def panel(qtbot: Any, ws: Any) -> Iterator[LibraryPanel]:
    p = make_panel(qtbot, ws)
    yield p
    p.context.runner.wait_idle()


def user_named(ws: Any, name: str) -> Any:
    return next(u for u in ws.directory.users() if u.name == name)


def ticket_of(ws: Any, client: str) -> Any:
    for ticket_id in some_tickets(ws):
        detail = ws.tickets.detail(ticket_id=ticket_id)
        if detail.row.client_name == client and detail.order_no and detail.row.customer_nick:
            return detail
    raise AssertionError(client)


def select_ticket(qtbot: Any, panel: LibraryPanel, detail: Any) -> None:
    panel.context.signals.ticket_selected.emit(detail.row.id)
    qtbot.waitUntil(lambda: panel.context.detail is not None and panel.context.detail.row.id == detail.row.id)


def search(qtbot: Any, panel: LibraryPanel, text: str) -> list[Any]:
    view = panel.search_view
    view.search_edit.setText(text)
    qtbot.waitUntil(lambda: view.shown_query == text and not view.searcher.busy, timeout=5000)
    return [view.model.hit(i) for i in range(view.model.rowCount())]


def block_worker(runner: TaskRunner) -> threading.Event:
    gate = threading.Event()
    runner.run_db(lambda _ctx: gate.wait(10))
    return gate


def test_index_loads_in_the_worker_and_search_runs_off_the_gui_thread(
    qtbot: Any, ws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = ws.library.index.search_engine()
    fresh = LibraryService(
        engine=ws.engine,
        clock=ws.clock,
        origin=ws.machine_id,
        index=LibrarySearch(engine=ws.engine, make_engine=lambda: shared),
    )
    threads: list[threading.Thread] = []
    real = fresh.search
    monkeypatch.setattr(
        fresh, "search", lambda *a, **kw: threads.append(threading.current_thread()) or real(*a, **kw)
    )
    runner = TaskRunner()
    gate = block_worker(runner)  # the index cannot load until released
    signals = AppSignals()
    context = LibraryContext(library=fresh, tickets=ws.tickets, runner=runner, signals=signals)
    panel = LibraryPanel(context=context, directory=ws.directory)
    qtbot.addWidget(panel)
    signals.user_changed.emit(user_named(ws, "李娜"))
    panel.search_view.search_edit.setText("退款多久到账")
    assert panel.search_view.state_label.text() == LOADING_TEXT
    assert not fresh.index.loaded
    gate.set()
    qtbot.waitUntil(lambda: panel.search_view.model.rowCount() > 0, timeout=10_000)
    assert panel.search_view.state_label.isHidden()
    assert threads and all(t is not threading.main_thread() for t in threads)
    runner.wait_idle()


def test_stale_answers_are_dropped(qtbot: Any) -> None:
    slow = threading.Event()

    def fake(query: str, _client: str | None, _user: str | None) -> list[Any]:
        if query == "慢":
            slow.wait(5)
        return [query]  # type: ignore[list-item]

    runner = TaskRunner()
    searcher = LibrarySearcher(search=fake, runner=runner)
    seen: list[tuple[str, Any]] = []
    searcher.results_ready.connect(lambda q, hits: seen.append((q, hits)))
    searcher.request("慢", client_id=None, user_id=None)
    searcher.run_now()
    searcher.request("快", client_id=None, user_id=None)
    searcher.run_now()
    qtbot.waitUntil(lambda: seen == [("快", ["快"])])
    slow.set()
    runner.wait_idle()
    qtbot.wait(50)
    assert seen == [("快", ["快"])]


def test_results_mix_kinds_and_highlight_matched_words(qtbot: Any, panel: LibraryPanel) -> None:
    hits = search(qtbot, panel, "退款")
    assert {h.kind for h in hits} == {"faq", "script"}
    view = panel.search_view
    html = view.delegate.html(view.model.index(0, 0))
    assert f'<span style="{MARK_STYLE}">退款</span>' in html
    assert "FAQ" in html or "话术" in html
    assert "通用" in html  # client badge of a generic entry
    short = search(qtbot, panel, "/thh")
    assert short[0].shortcut == "/thh"
    assert f'<span style="{MARK_STYLE}">/thh</span>' in view.delegate.html(view.model.index(0, 0))
    assert "退货退款到账" in panel.preview.toPlainText()


def test_down_and_enter_copy_with_placeholders_filled_from_the_ticket(
    qtbot: Any, panel: LibraryPanel, ws: Any
) -> None:
    detail = ticket_of(ws, "暖居家纺")
    select_ticket(qtbot, panel, detail)
    hits = search(qtbot, panel, "回访确认")
    target = next(i for i, h in enumerate(hits) if h.shortcut == "/hf")
    edit = panel.search_view.search_edit
    for _ in range(target):
        qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert panel.search_view.current_hit().shortcut == "/hf"
    assert detail.row.customer_nick in panel.preview.toPlainText()  # the preview shows the filled value
    QGuiApplication.clipboard().setText("")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: detail.order_no in QGuiApplication.clipboard().text(), timeout=5000)
    text = QGuiApplication.clipboard().text()
    assert detail.row.customer_nick in text and "{" not in text
    toast = panel.window().findChild(Toast)
    assert toast is not None and toast.isVisible() and "已复制" in toast.text()


def test_unfilled_placeholders_block_the_copy_until_filled_or_left(
    qtbot: Any, panel: LibraryPanel, ws: Any
) -> None:
    detail = ticket_of(ws, "极客数码")
    select_ticket(qtbot, panel, detail)
    clipboard = QGuiApplication.clipboard()
    view, form = panel.search_view, panel.search_view.form
    for fill in (True, False):
        search(qtbot, panel, "/yfh")
        assert view.current_hit().shortcut == "/yfh"
        clipboard.setText("旧内容")
        qtbot.keyClick(view.search_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(form.isVisible, timeout=5000)
        assert list(form.fields) == ["物流单号"]
        assert not form.copy_button.isEnabled()
        qtbot.keyClick(form.fields["物流单号"], Qt.Key.Key_Return)  # incomplete: Enter does not copy
        qtbot.wait(20)
        assert clipboard.text() == "旧内容" and form.isVisible()
        if fill:
            qtbot.keyClicks(form.fields["物流单号"], "SF1234567")
            qtbot.keyClick(form.fields["物流单号"], Qt.Key.Key_Return)
        else:
            form.keep_boxes["物流单号"].setChecked(True)
            qtbot.mouseClick(form.copy_button, Qt.MouseButton.LeftButton)
        assert not form.isVisible()
        text = clipboard.text()
        assert detail.order_no in text
        assert ("SF1234567" in text) if fill else ("{物流单号}" in text)


def test_cancelling_the_form_copies_nothing(qtbot: Any, panel: LibraryPanel) -> None:
    search(qtbot, panel, "/yfh")
    QGuiApplication.clipboard().setText("旧内容")
    panel.search_view.copy_current()
    form = panel.search_view.form
    qtbot.waitUntil(form.isVisible, timeout=5000)
    assert set(form.fields) == {"订单号", "物流单号"}  # no ticket selected: nothing filled
    qtbot.mouseClick(form.cancel_button, Qt.MouseButton.LeftButton)
    assert not form.isVisible() and QGuiApplication.clipboard().text() == "旧内容"


def test_weak_results_say_there_is_no_good_answer(qtbot: Any, panel: LibraryPanel) -> None:
    hits = search(qtbot, panel, "天气怎么样")
    assert hits and hits[0].weak
    assert panel.search_view.state_label.isVisible()
    assert panel.search_view.state_label.text() == WEAK_TEXT
    assert search(qtbot, panel, "退款多久能到账")[0].weak is False
    assert panel.search_view.state_label.isHidden()


def test_scope_follows_the_ticket_client_with_a_toggle_for_all(
    qtbot: Any, panel: LibraryPanel, ws: Any
) -> None:
    detail = ticket_of(ws, "暖居家纺")
    select_ticket(qtbot, panel, detail)
    assert "暖居家纺" in panel.search_view.scope_label.text()
    scoped = search(qtbot, panel, "退货说明")
    assert {h.client_name for h in scoped} <= {None, "暖居家纺"}
    assert scoped[0].client_name == "暖居家纺"  # its own entry outranks the generic ones
    view = panel.search_view
    view.all_clients_box.setChecked(True)
    qtbot.waitUntil(
        lambda: any(view.model.hit(i).client_name == "青禾食品" for i in range(view.model.rowCount()))
    )


def test_supervisor_edits_an_agent_does_not(qtbot: Any, panel: LibraryPanel, ws: Any) -> None:
    editing = (panel.new_button, panel.edit_button, panel.delete_button, panel.import_button)
    assert all(b.isHidden() for b in editing) and not panel.export_button.isHidden()
    panel.context.signals.user_changed.emit(user_named(ws, "赵敏"))
    assert not any(b.isHidden() for b in editing)

    panel.open_editor(LibraryKind.SCRIPTS, None)
    qtbot.waitUntil(lambda: panel.editor is not None and panel.editor.isVisible())
    dialog = panel.editor
    dialog.title_edit.setText("界面测试话术")
    dialog.body_edit.setPlainText("亲，{买家昵称}，界面测试的回复内容{订单}")
    assert (
        "{订单}" in dialog.warning_label.text() and not dialog.warning_label.isHidden()
    )  # unknown placeholder warned while typing
    dialog.shortcut_edit.setText("/uitest")
    dialog.submit()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    hit = search(qtbot, panel, "/uitest")[0]
    assert hit.title == "界面测试话术"

    box = panel.delete_current()
    assert box is not None
    box.accept()
    qtbot.waitUntil(
        lambda: not any(h.title == "界面测试话术" for h in search(qtbot, panel, "/uitest")), timeout=5000
    )


def test_save_errors_keep_the_dialog_open(qtbot: Any, panel: LibraryPanel, ws: Any) -> None:
    panel.context.signals.user_changed.emit(user_named(ws, "赵敏"))
    panel.open_editor(LibraryKind.SCRIPTS, None)
    qtbot.waitUntil(lambda: panel.editor is not None and panel.editor.isVisible())
    dialog = panel.editor
    dialog.title_edit.setText("重复编码")
    dialog.body_edit.setPlainText("内容")
    dialog.shortcut_edit.setText("/thh")
    dialog.submit()
    qtbot.waitUntil(dialog.error_label.isVisible, timeout=5000)
    assert "/thh" in dialog.error_label.text() and dialog.isVisible()


FAQ_BAD = "id,question,answer\nUI1,界面导入问题一,答案一\nUI2,界面导入问题二,\n"
FAQ_GOOD = "id,question,answer,client\nUI3,界面导入问题三,答案三,新客户界面\nUI4,界面导入问题四,答案四,\n"


def test_import_preview_lists_errors_with_row_and_column(
    qtbot: Any, panel: LibraryPanel, ws: Any, tmp_path: Path
) -> None:
    panel.context.signals.user_changed.emit(user_named(ws, "赵敏"))
    path = tmp_path / "bad.csv"
    path.write_text(FAQ_BAD, encoding="utf-8")
    dialog = panel.open_import(path)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=5000)
    cells = [
        tuple(dialog.issues_model.index(r, c).data() for c in range(3))
        for r in range(dialog.issues_model.rowCount())
    ]
    assert cells and cells[0][:2] == ("第 3 行", "答案")
    assert dialog.issues_view.isVisible() and not dialog.apply_button.isEnabled()
    dialog.reject()


def test_import_cancel_writes_nothing_then_apply_writes(
    qtbot: Any, panel: LibraryPanel, ws: Any, tmp_path: Path
) -> None:
    panel.context.signals.user_changed.emit(user_named(ws, "赵敏"))
    before = len(ws.library.faq_entries())
    path = tmp_path / "good.csv"
    path.write_text(FAQ_GOOD, encoding="utf-8")
    dialog = panel.open_import(path)
    qtbot.waitUntil(lambda: dialog.preview is not None and dialog.apply_button.isEnabled(), timeout=5000)
    assert "新客户界面" in dialog.summary_label.text()
    assert dialog.rows_model.rowCount() == 2
    gate = block_worker(panel.context.runner)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert dialog.progress.isVisible()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()  # 取消 while applying cancels, it does not walk away
    gate.set()
    qtbot.waitUntil(lambda: "已取消" in dialog.status_label.text(), timeout=5000)
    assert len(ws.library.faq_entries()) == before
    assert all(c.name != "新客户界面" for c in ws.directory.clients())

    with qtbot.waitSignal(dialog.applied, timeout=5000):
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert len(ws.library.faq_entries()) == before + 2
    assert "新增 2 条" in dialog.status_label.text()
    panel.search_view.all_clients_box.setChecked(True)
    assert search(qtbot, panel, "界面导入问题三")[0].title == "界面导入问题三"


def test_export_writes_the_file(qtbot: Any, panel: LibraryPanel, tmp_path: Path) -> None:
    path = tmp_path / "话术.csv"
    panel.export_to(path, LibraryKind.SCRIPTS)
    qtbot.waitUntil(path.exists, timeout=5000)
    assert "/thh" in path.read_text(encoding="utf-8-sig")


def test_meaning_joins_the_ranking_after_the_first_search_without_blocking_it(
    qtbot: Any, ws: Any, tmp_path: Path
) -> None:
    fresh = LibraryService(
        engine=ws.engine,
        clock=ws.clock,
        origin=ws.machine_id,
        index=LibrarySearch(
            engine=ws.engine, cache_dir=tmp_path, make_engine=lambda: default_search_engine(tmp_path)
        ),
    )
    runner = TaskRunner()
    signals = AppSignals()
    context = LibraryContext(library=fresh, tickets=ws.tickets, runner=runner, signals=signals)
    panel = LibraryPanel(context=context, directory=ws.directory)
    qtbot.addWidget(panel)
    signals.user_changed.emit(user_named(ws, "李娜"))
    context.load_index()
    qtbot.waitUntil(lambda: fresh.index.loaded, timeout=20_000)
    engine = fresh.index.search_engine()
    assert not engine.semantic_ready  # the app loads no model until the library is searched
    hits = search(qtbot, panel, "退款多久到账")
    assert hits  # answered lexically while the model loads
    saved = tmp_path / "library_vectors.snapshot"  # written just after meaning is ready
    qtbot.waitUntil(lambda: engine.semantic_ready and saved.is_file(), timeout=30_000)
    assert search(qtbot, panel, "钱什么时候能退回来")
    runner.wait_idle()
