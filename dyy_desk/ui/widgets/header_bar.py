"""The strip above everything: who is working, the sync state, and how many deadlines are close."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from dyy_desk.core.i18n import _
from dyy_desk.core.types import ROLE_LABELS, UserRow


class HeaderBar(QWidget):
    user_chosen = Signal(object)  # UserRow picked by the person at the keyboard

    def __init__(self) -> None:
        super().__init__()
        self.user_combo = QComboBox()
        self.user_combo.setToolTip(_("切换当前用户 (Ctrl+Shift+U)"))
        self.user_combo.activated.connect(
            lambda index: self.user_chosen.emit(self.user_combo.itemData(index))
        )
        self.sync_label = QLabel(_("同步：未设置"))
        self.due_badge = QLabel()
        self.due_badge.setObjectName("headerBadge")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(QLabel(_("<b>DYY Desk</b> 代运营客服工作台")))
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
        self.due_badge.setText(
            _("{due_soon} 即将超时 · {overdue} 已超时").format(due_soon=due_soon, overdue=overdue)
        )

    def set_sync_text(self, text: str, tooltip: str = "") -> None:
        self.sync_label.setText(text)
        self.sync_label.setToolTip(tooltip)
