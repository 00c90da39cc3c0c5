"""UI strings go through _(): the extractor finds them, and an installed catalog reaches the real window."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dyy_desk.core import i18n
from dyy_desk.infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _mark(text: str) -> str:
    return "‹" + text + "›"


def _is_marked(text: str) -> bool:
    return text.startswith("‹") and text.endswith("›")


def _extractor() -> Any:
    spec = importlib.util.spec_from_file_location("extract_strings", ROOT / "scripts" / "extract_strings.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("extract_strings", module)
    spec.loader.exec_module(module)
    return module


def test_extractor_collects_marked_strings(tmp_path: Path) -> None:
    extractor = _extractor()
    out = tmp_path / "messages.pot"
    assert extractor.main(["--out", str(out)]) == 0
    catalog = extractor.collect()
    for msgid in ("新建工单", "工单(&T)", "倒计时", "添加备注", "已创建工单 {number}", "没有已超时的工单。"):
        assert msgid in catalog, msgid
    assert any(ref.startswith("dyy_desk/ui/actions.py:") for ref in catalog["新建工单"])
    text = out.read_text(encoding="utf-8")
    assert 'msgid "新建工单"' in text
    assert "#: dyy_desk/ui/" in text
    assert "#, python-brace-format" in text


def test_extractor_ignores_non_literals() -> None:
    found = _extractor().strings_in('_("甲")\nN_("乙")\n_(LABELS[x])\nlog.info("丙")\n', "x.py")
    assert found == [("甲", 1), ("乙", 2)]


@pytest.fixture
def translated_window(qtbot: Any, demo_workspace: Any) -> Iterator[Any]:
    from PySide6.QtWidgets import QApplication

    from dyy_desk.ui.main_window import MainWindow
    from dyy_desk.ui.theme import apply_theme

    apply_theme(QApplication.instance())  # type: ignore[arg-type]
    i18n.install(_mark)
    try:
        main = MainWindow(workspace=demo_workspace, settings=Settings())
        qtbot.addWidget(main)
        with qtbot.waitSignal(main.ready, timeout=10_000):
            main.show()
        yield main
        main.runner.wait_idle()
    finally:
        i18n.install(lambda text: text)


def test_installed_translation_reaches_the_main_window(translated_window: Any) -> None:
    from PySide6.QtCore import Qt

    main = translated_window
    menus = [action.text() for action in main.menuBar().actions()]
    assert menus and all(_is_marked(title) for title in menus), menus
    assert "‹工单(&T)›" in menus

    model = main.queue.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers and all(_is_marked(h) for h in headers), headers
    assert "‹倒计时›" in headers

    combo = main.queue.view_combo
    views = [combo.itemText(i) for i in range(combo.count())]
    assert views and all(_is_marked(v) for v in views), views

    nav = [main.nav.text(row) for row in range(main.nav.model().rowCount())]
    assert nav and all(_is_marked(title.split(" (")[0]) for title in nav), nav

    detail = main.detail
    buttons = [detail.note_button.text(), detail.reply_button.text(), detail.escalate_button.text()]
    assert all(_is_marked(text) for text in buttons), buttons
    assert "‹添加备注›" in buttons


def test_identity_is_restored_after_the_translated_window() -> None:
    assert i18n._("工单") == "工单"
