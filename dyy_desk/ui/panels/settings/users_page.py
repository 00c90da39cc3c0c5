"""用户与权限: everyone in the workspace, their role and whether their password is set.

Supervisors and admins add people, change roles and set passwords; agents see the list only. The
buttons follow the same rules as `UserAdminService` and `AuthService.set_password` so nobody is
offered what the service would refuse, but the services decide. Dialogs are opened with `open()`
(never a nested event loop) and kept on the page until they close.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QWidget,
)

from dyy_desk.core.changes import Changes
from dyy_desk.core.i18n import _
from dyy_desk.core.types import ROLE_LABELS, Role, UserRow
from dyy_desk.services.auth_service import PASSWORD_ROLES, AuthService
from dyy_desk.services.user_admin import RANK, UserAdminService, UserEntry, assignable_roles
from dyy_desk.services.workspace import Workspace
from dyy_desk.ui.dialogs.password_dialog import PasswordDialog
from dyy_desk.ui.panels.settings.common import error_text, is_manager, label, page_layout
from dyy_desk.ui.panels.settings.user_dialog import UserDialog
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner
from dyy_desk.ui.user_switch import change_password_dialog


class UsersPage(QWidget):
    def __init__(
        self, *, workspace: Workspace, runner: TaskRunner, signals: AppSignals, user: UserRow | None
    ) -> None:
        super().__init__()
        self._workspace, self._runner, self._signals = workspace, runner, signals
        self._admin = UserAdminService(
            engine=workspace.engine, clock=workspace.clock, origin=workspace.machine_id
        )
        self._user = user
        self._entries: list[UserEntry] = []
        self._select_next: str | None = None  # a user just added or changed, selected once listed
        self.dialog: QDialog | None = None
        layout = page_layout(
            self,
            _("用户与权限"),
            _(
                "客服无需密码；主管和管理员切换到自己的账号时要输入密码。主管可以添加客服和主管，管理员可以授予任何角色。"
            ),
        )
        self.model = QStandardItemModel(0, 3, self)
        self.model.setHorizontalHeaderLabels([_("姓名"), _("角色"), _("密码")])
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _index: self.change_role())
        self.add_button = QPushButton(_("添加用户…"))
        self.add_button.clicked.connect(self.add_user)
        self.role_button = QPushButton(_("修改角色…"))
        self.role_button.clicked.connect(self.change_role)
        self.password_button = QPushButton(_("设置密码…"))
        self.password_button.clicked.connect(self.set_password)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.role_button, self.password_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.read_only_note = label(
            _("你当前是客服，只能查看。需要添加同事或修改角色时，请主管或管理员操作。"), name="mutedLabel"
        )
        self.message = label()
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.read_only_note)
        layout.addWidget(self.message)
        self._update_buttons()

    # --- data ----------------------------------------------------------------------------------
    def reload(self) -> None:
        self._runner.run_db(lambda _ctx: self._admin.roster(), self._show_roster, self._show_error)

    def _show_roster(self, entries: list[UserEntry]) -> None:
        current = self.selected()
        wanted = self._select_next or (current.user.id if current else None)
        self._select_next = None
        self._entries = entries
        self.model.removeRows(0, self.model.rowCount())
        for entry in entries:
            needs = entry.user.role in PASSWORD_ROLES
            password = (_("已设置") if entry.has_password else _("未设置")) if needs else _("不需要")
            mine = self._user is not None and entry.user.id == self._user.id
            name = QStandardItem(entry.user.name + (_("（我）") if mine else ""))
            self.model.appendRow(
                [name, QStandardItem(_(ROLE_LABELS[entry.user.role])), QStandardItem(password)]
            )
        if wanted is not None:
            self.select(wanted)
        self._update_buttons()

    def select(self, user_id: str) -> None:
        for row, entry in enumerate(self._entries):
            if entry.user.id == user_id:
                self.table.selectRow(row)

    def selected(self) -> UserEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self._entries[rows[0].row()] if rows and rows[0].row() < len(self._entries) else None

    def set_user(self, user: UserRow | None) -> None:
        self._user = user
        self._update_buttons()

    # --- what the current user may do ----------------------------------------------------------
    def _may_change_role(self, target: UserRow) -> bool:
        actor = self._user
        return (
            actor is not None
            and is_manager(actor)
            and target.id != actor.id
            and RANK[target.role] <= RANK[actor.role]
        )

    def _may_set_password(self, target: UserRow) -> bool:
        actor = self._user
        return (
            actor is not None
            and target.role in PASSWORD_ROLES
            and (actor.id == target.id or actor.role is Role.ADMIN)
        )

    def _update_buttons(self) -> None:
        manager = is_manager(self._user)
        self.add_button.setVisible(manager)
        self.role_button.setVisible(manager)
        self.password_button.setVisible(manager)  # agents have no password to set
        self.read_only_note.setVisible(not manager)
        entry = self.selected()
        self.role_button.setEnabled(entry is not None and self._may_change_role(entry.user))
        self.password_button.setEnabled(entry is not None and self._may_set_password(entry.user))
        if entry is not None and self._user is not None and entry.user.id != self._user.id:
            self.password_button.setText(_("重置密码…") if entry.has_password else _("设置密码…"))
        else:
            has = entry is not None and entry.has_password
            self.password_button.setText(_("修改我的密码…") if has else _("设置密码…"))
        self.password_button.setToolTip(
            ""
            if self.password_button.isEnabled()
            else _("主管和管理员可以修改自己的密码；只有管理员可以重置他人的密码")
        )

    # --- actions ------------------------------------------------------------------------------
    def add_user(self) -> None:
        actor = self._user
        if actor is None or not is_manager(actor):
            return

        def submit(name: str, role: Role) -> None:
            self._run(lambda: self._admin.add_user(actor_id=actor.id, name=name, role=role), _("已添加"))

        self._open(UserDialog(roles=assignable_roles(actor), submit=submit, parent=self))

    def change_role(self) -> None:
        actor, entry = self._user, self.selected()
        if actor is None or entry is None or not self._may_change_role(entry.user):
            return
        target = entry.user

        def submit(_name: str, role: Role) -> None:
            self._run(
                lambda: self._admin.change_role(actor_id=actor.id, user_id=target.id, role=role),
                _("已修改角色"),
            )

        self._open(UserDialog(roles=assignable_roles(actor), submit=submit, user=target, parent=self))

    def set_password(self) -> None:
        actor, entry = self._user, self.selected()
        if actor is None or entry is None or not self._may_set_password(entry.user):
            return
        target = entry.user

        def show(auth: AuthService) -> None:
            # The dialog checks the password on the GUI thread, as switching users does: one scrypt
            # behind a wait cursor, ordered with the database worker by SQLite's busy timeout.
            dialog: PasswordDialog = change_password_dialog(self, auth, actor, target)
            dialog.accepted.connect(
                lambda: self._done(
                    Changes(users=True), _("已保存「{name}」的密码").format(name=target.name), target.id
                )
            )
            self._open(dialog)

        self._runner.run_db(lambda _ctx: self._workspace.auth, show, self._show_error)

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _code: self._closed(dialog))
        dialog.open()

    def _closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _run(self, work: Callable[[], tuple[UserRow, Changes]], verb: str) -> None:
        dialog = self.dialog

        def done(result: tuple[UserRow, Changes]) -> None:
            user, changes = result
            if isinstance(dialog, QDialog):
                dialog.accept()
            who = _("{role}「{name}」").format(role=_(ROLE_LABELS[user.role]), name=user.name)
            self._done(changes, f"{verb}：{who}", user.id)

        def failed(exc: BaseException) -> None:
            if isinstance(dialog, UserDialog):
                dialog.show_error(error_text(exc))
            else:
                self._show_error(exc)

        self._runner.run_db(lambda _ctx: work(), done, failed)

    def _done(self, changes: Changes, message: str, user_id: str) -> None:
        self._say(message)
        self._select_next = user_id
        self.reload()
        if changes.users:
            self._signals.operation_did_execute.emit(changes, self)

    def _show_error(self, exc: BaseException) -> None:
        self._say(error_text(exc), error=True)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setObjectName("errorLabel" if error else "")
        self.message.style().polish(self.message)
        self.message.setText(text)
