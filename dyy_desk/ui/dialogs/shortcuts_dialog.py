"""帮助 → 快捷键: generated from the action registry, so it can never drift from the real keys."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from dyy_desk.core.i18n import _
from dyy_desk.ui.actions import ACTIONS, NAV_SHORTCUT_PREFIX


def shortcuts_html(nav_labels: list[str]) -> str:
    groups: dict[str, list[tuple[str, str]]] = {}
    for action in ACTIONS:
        groups.setdefault(_(action.group), []).append((action.shortcut, _(action.text)))
    groups[_("导航")] = [(f"{NAV_SHORTCUT_PREFIX}{i + 1}", label) for i, label in enumerate(nav_labels)]
    parts = []
    for group, rows in groups.items():
        parts.append(f"<h3>{escape(group)}</h3><table cellpadding='3'>")
        parts += [f"<tr><td><b>{escape(k)}</b></td><td>{escape(t)}</td></tr>" for k, t in rows]
        parts.append("</table>")
    return "".join(parts)


class ShortcutsDialog(QDialog):
    def __init__(self, nav_labels: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("快捷键"))
        self.browser = QTextBrowser()
        self.browser.setHtml(shortcuts_html(nav_labels))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("关闭"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(self.fontMetrics().horizontalAdvance("中") * 30, self.fontMetrics().height() * 30)
