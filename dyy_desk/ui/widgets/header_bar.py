"""The strip above everything: the library search any agent can find without knowing Ctrl+K, who is
working, the sync state, and how many deadlines are close (a click opens those tickets)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from dyy_desk.core.i18n import _
from dyy_desk.core.ticket_query import QueueView
from dyy_desk.core.types import ROLE_LABELS, UserRow


class HeaderBar(QWidget):
    user_chosen = Signal(object)  # UserRow picked by the person at the keyboard
    search_requested = Signal()
    view_requested = Signal(object)  # QueueView behind the clicked count

    def __init__(self) -> None:
        super().__init__()
        self.search_button = QPushButton(_("搜索知识库与话术…  Ctrl+K"))
        self.search_button.setObjectName("headerSearch")
        self.search_button.setToolTip(_("输入几个字、拼音首字母或快捷码，找到 FAQ 和话术，回车复制"))
        self.search_button.setCursor(Qt.CursorShape.IBeamCursor)
        self.search_button.clicked.connect(self.search_requested)
        self.user_combo = QComboBox()
        self.user_combo.setToolTip(_("切换当前用户 (Ctrl+Shift+U)"))
        self.user_combo.activated.connect(
            lambda index: self.user_chosen.emit(self.user_combo.itemData(index))
        )
        self.sync_label = QLabel(_("同步：未设置"))
        self.due_counts = (0, 0)
        self.due_badge = QLabel()
        self.due_badge.setObjectName("headerBadge")
        self.due_badge.setToolTip(
            _("全部未结工单中处理时限将到或已过的数量（与「即将超时」「已超时」视图一致）；点击数字查看这些工单")
        )
        self.due_badge.linkActivated.connect(lambda view: self.view_requested.emit(QueueView(view)))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.search_button, 2)
        layout.addStretch(1)
        layout.addWidget(QLabel(_("当前：")))
        layout.addWidget(self.user_combo)
        layout.addWidget(self.sync_label)
        layout.addWidget(self.due_badge)

    def set_users(self, users: list[UserRow], current: UserRow | None) -> None:
        self.user_combo.clear()
        for user in users:
            self.user_combo.addItem(f"{user.name}（{_(ROLE_LABELS[user.role])}）", user)
        self.show_user(current)

    def show_user(self, user: UserRow | None) -> None:
        """Point the picker at `user` without emitting user_chosen (e.g. after a refused switch)."""
        index = next(
            (i for i in range(self.user_combo.count()) if user and self.user_combo.itemData(i).id == user.id),
            -1,
        )
        self.user_combo.setCurrentIndex(index)

    def set_due_counts(self, due_soon: int, overdue: int) -> None:
        self.due_counts = (due_soon, overdue)
        overdue_colour = "#b71c1c" if overdue else "#7a4b00"
        links = (
            f"<a href='{QueueView.DUE_SOON.value}' style='color:#7a4b00'>"
            + _("{due_soon} 即将超时").format(due_soon=due_soon)
            + f"</a> · <a href='{QueueView.OVERDUE.value}' style='color:{overdue_colour}'>"
            + _("{overdue} 已超时").format(overdue=overdue)
            + "</a>"
        )
        self.due_badge.setText(links)

    def set_sync_text(self, text: str, tooltip: str = "") -> None:
        self.sync_label.setText(text)
        self.sync_label.setToolTip(tooltip)
