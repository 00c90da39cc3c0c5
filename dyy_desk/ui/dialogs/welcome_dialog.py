"""First start: choose 演示数据 or 空白工作区, then pick or create the current user.

Two pages in one dialog. Page 1 asks how to start; 下一步 calls `open_workspace(seed)` (supplied by the
composition root, which knows how to explain a locked or damaged folder) and only then is anything
written to disk. Page 2 lists the workspace's users to pick from, or creates one; the first user of an
empty workspace is a supervisor, since somebody has to be able to manage it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from dyy_desk import __version__
from dyy_desk.core.i18n import _
from dyy_desk.core.types import ROLE_LABELS, Role, UserRow
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.workspace import Seed, Workspace

WorkspaceOpener = Callable[[Seed], Workspace | None]


class WelcomeDialog(QDialog):
    """`workspace` and `user` are set once the dialog is accepted. Pass `workspace` to start on page 2
    (a workspace that exists but has nobody to work as)."""

    def __init__(
        self,
        *,
        open_workspace: WorkspaceOpener | None = None,
        workspace: Workspace | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if open_workspace is None and workspace is None:
            raise ValueError("WelcomeDialog needs open_workspace or an open workspace")
        self._open_workspace = open_workspace
        self.workspace: Workspace | None = workspace
        self.user: UserRow | None = None
        self.setWindowTitle(_("欢迎使用 DYY Desk"))
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_start_page())
        self.pages.addWidget(self._build_user_page())
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #C62828;")
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        self.quit_button = QPushButton(_("退出"))
        self.next_button = QPushButton(_("下一步"))
        self.start_button = QPushButton(_("开始使用"))
        self.quit_button.clicked.connect(self.reject)
        self.next_button.clicked.connect(self._on_next)
        self.start_button.clicked.connect(self._on_start)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.quit_button, self.next_button, self.start_button):
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        em = self.fontMetrics().horizontalAdvance("中")
        self.setMinimumWidth(em * 34)
        if workspace is not None:
            self._show_user_page()
        else:
            self._show_page(0)

    # --- page 1: how to start -----------------------------------------------------------------------
    def _build_start_page(self) -> QWidget:
        page = QWidget()
        title = QLabel(
            _("<h2>欢迎使用 DYY Desk 代运营客服工作台</h2><p>版本 {version}</p>").format(version=__version__)
        )
        intro = QLabel(_("这台电脑上还没有工作区。请选择开始方式："))
        self.demo_radio = QRadioButton(_("演示数据"))
        demo_hint = QLabel(_("带示例品牌方、店铺、客服和约 200 个工单，适合先熟悉功能。"))
        self.empty_radio = QRadioButton(_("空白工作区"))
        empty_hint = QLabel(_("从零开始，录入真实的品牌方、店铺和工单。"))
        for hint in (demo_hint, empty_hint):
            hint.setContentsMargins(24, 0, 0, 8)
            hint.setStyleSheet("color: palette(mid);")
            hint.setWordWrap(True)
        self.seed_group = QButtonGroup(page)
        self.seed_group.addButton(self.demo_radio)
        self.seed_group.addButton(self.empty_radio)
        self.demo_radio.setChecked(True)
        layout = QVBoxLayout(page)
        for widget in (title, intro, self.demo_radio, demo_hint, self.empty_radio, empty_hint):
            layout.addWidget(widget)
        layout.addStretch(1)
        return page

    def chosen_seed(self) -> Seed:
        return Seed.EMPTY if self.empty_radio.isChecked() else Seed.DEMO

    def _on_next(self) -> None:
        assert self._open_workspace is not None
        self.next_button.setEnabled(False)
        self.setCursor(Qt.CursorShape.WaitCursor)
        try:
            workspace = self._open_workspace(self.chosen_seed())
        finally:
            self.unsetCursor()
            self.next_button.setEnabled(True)
        if workspace is None:  # the opener has already told the user why
            self.reject()
            return
        self.workspace = workspace
        self._show_user_page()

    # --- page 2: who is working ---------------------------------------------------------------------
    def _build_user_page(self) -> QWidget:
        page = QWidget()
        self.user_title = QLabel(_("<h3>选择当前用户</h3>"))
        self.existing_radio = QRadioButton(_("以现有用户身份使用"))
        self.user_combo = QComboBox()
        self.new_radio = QRadioButton(_("新建用户"))
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText(_("您的姓名"))
        self.name_edit.setMaxLength(64)
        self.role_combo = QComboBox()
        for role in Role:
            self.role_combo.addItem(_(ROLE_LABELS[role]), role.value)
        self.user_group = QButtonGroup(page)
        self.user_group.addButton(self.existing_radio)
        self.user_group.addButton(self.new_radio)
        self.existing_radio.toggled.connect(self._sync_user_controls)
        self.name_edit.textEdited.connect(lambda _t: self.new_radio.setChecked(True))
        self.name_edit.returnPressed.connect(self._on_start)

        form = QFormLayout()
        form.addRow(_("姓名"), self.name_edit)
        form.addRow(_("角色"), self.role_combo)
        form.setContentsMargins(24, 0, 0, 0)
        layout = QVBoxLayout(page)
        layout.addWidget(self.user_title)
        layout.addWidget(self.existing_radio)
        self.user_combo_row = QWidget()
        row = QHBoxLayout(self.user_combo_row)
        row.setContentsMargins(24, 0, 0, 8)
        row.addWidget(self.user_combo)
        layout.addWidget(self.user_combo_row)
        layout.addWidget(self.new_radio)
        layout.addLayout(form)
        layout.addStretch(1)
        return page

    def _show_user_page(self) -> None:
        assert self.workspace is not None
        users = self.workspace.directory.users()
        self.user_combo.clear()
        for user in users:
            self.user_combo.addItem(f"{user.name}（{_(ROLE_LABELS[user.role])}）", user)
        has_users = bool(users)
        for widget in (self.existing_radio, self.user_combo_row, self.new_radio):
            widget.setVisible(has_users)
        if has_users:
            self.user_title.setText(
                _("<h3>选择当前用户</h3><p>选择您在本工作区中的身份，或新建一个用户。</p>")
            )
            self.existing_radio.setChecked(True)
        else:
            self.user_title.setText(
                _(
                    "<h3>创建您的账号</h3><p>这是一个空白工作区。第一位用户将作为主管，可以管理团队和设置。</p>"
                )
            )
            self.new_radio.setChecked(True)
            self.role_combo.setCurrentIndex(self.role_combo.findData(Role.SUPERVISOR.value))
            self.role_combo.setEnabled(False)
        self._sync_user_controls()
        self._show_page(1)
        if not has_users:
            self.name_edit.setFocus()

    def _sync_user_controls(self) -> None:
        existing = self.existing_radio.isChecked()
        self.user_combo.setEnabled(existing)

    def _on_start(self) -> None:
        assert self.workspace is not None
        if self.existing_radio.isVisible() and self.existing_radio.isChecked():
            self.user = self.user_combo.currentData()
        else:
            role = Role(self.role_combo.currentData() or Role.SUPERVISOR.value)
            try:
                self.user, _changes = self.workspace.directory.create_user(
                    name=self.name_edit.text(), role=role
                )
            except ServiceError as exc:
                self._show_error(str(exc))
                self.name_edit.setFocus()
                return
        if self.user is None:
            self._show_error(_("请选择一个用户"))
            return
        self.accept()

    # --- helpers ------------------------------------------------------------------------------------
    def _show_page(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.error_label.hide()
        self.next_button.setVisible(index == 0)
        self.start_button.setVisible(index == 1)
        (self.next_button if index == 0 else self.start_button).setDefault(True)

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
