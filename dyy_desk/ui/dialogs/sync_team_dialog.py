"""团队密钥… : a supervisor creates the team key (shown once, with a copy button); everyone else
pastes it to join. Where this computer has no working keyring we say so before anything is tried,
and the only fallback is an explicit, clearly labelled choice to keep the key in an unprotected file.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import N_, _
from dyy_desk.core.types import Role, UserRow
from dyy_desk.infra.bundle_crypto import TeamKeyError, parse_team_key
from dyy_desk.infra.secrets import UNPROTECTED_FILE_NAME, KeyLocation, keyring_status
from dyy_desk.infra.settings import Settings
from dyy_desk.services.sync_team import LOCATION_TEXT, SyncService, TeamInfo
from dyy_desk.ui.tasks import TaskRunner

UNPROTECTED_TEXT = N_(
    "把团队密钥保存在未受保护的文件中（{file}）——"
    "任何能打开这台电脑文件的人都能读取它，只在没有系统钥匙串时使用"
)


class SyncTeamDialog(QDialog):
    joined = Signal()  # created or joined a team

    def __init__(
        self,
        *,
        sync: SyncService,
        runner: TaskRunner,
        settings: Settings,
        user: UserRow | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("团队密钥"))
        self._sync, self._runner, self._settings = sync, runner, settings
        self._actor_id = user.id if user is not None else None
        self.info_label = QLabel(_("正在读取团队信息…"))
        self.info_label.setWordWrap(True)

        status = keyring_status()
        self.keyring_label = QLabel()
        self.keyring_label.setWordWrap(True)
        self.unprotected_check = QCheckBox(_(UNPROTECTED_TEXT).format(file=UNPROTECTED_FILE_NAME))
        self.unprotected_check.setChecked(settings.team_key_unprotected_file)
        self.unprotected_check.toggled.connect(self._opt_in)
        if status.available:
            self.keyring_label.setText(_("团队密钥将保存在系统钥匙串中。"))
            self.unprotected_check.hide()
        else:
            self.keyring_label.setObjectName("errorLabel")
            self.keyring_label.setText(
                _(
                    "注意：{problem}因此无法安全地保存团队密钥。你可以改在有系统钥匙串的电脑上使用同步，或勾选下面的选项。"
                ).format(problem=status.problem)
            )

        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(100)
        self.name_edit.setPlaceholderText(_("同事在同步消息中看到的名称，如 李娜"))
        if user is not None:
            self.name_edit.setText(user.name)

        self.create_box = QGroupBox(_("创建新团队（主管）"))
        self.create_button = QPushButton(_("创建团队密钥"))
        self.create_button.clicked.connect(self.create_team)
        is_supervisor = user is not None and user.role in (Role.SUPERVISOR, Role.ADMIN)
        self.create_button.setEnabled(is_supervisor)
        if not is_supervisor:
            self.create_button.setToolTip(_("只有主管可以创建团队密钥"))
        self.key_view = QLineEdit()
        self.key_view.setReadOnly(True)
        self.key_view.hide()
        self.copy_button = QPushButton(_("复制"))
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.key_view.text()))
        self.copy_button.hide()
        self.key_note = QLabel(_("这是唯一一次显示团队密钥，请复制后通过安全的方式交给同事。"))
        self.key_note.hide()
        create_layout = QVBoxLayout(self.create_box)
        create_layout.addWidget(self.create_button)
        create_layout.addWidget(self.key_view)
        create_layout.addWidget(self.copy_button)
        create_layout.addWidget(self.key_note)

        self.join_box = QGroupBox(_("加入团队"))
        self.key_edit = QLineEdit()
        self.key_edit.setPlaceholderText(_("粘贴主管给的团队密钥，如 DYY1-XXXX-XXXX-…"))
        self.join_button = QPushButton(_("加入"))
        self.join_button.clicked.connect(self.join_team)
        join_form = QFormLayout(self.join_box)
        join_form.addRow(_("团队密钥："), self.key_edit)
        join_form.addRow("", self.join_button)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("errorLabel")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("关闭"))
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(_("本机显示名称："), self.name_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info_label)
        layout.addWidget(self.keyring_label)
        layout.addWidget(self.unprotected_check)
        layout.addLayout(form)
        layout.addWidget(self.create_box)
        layout.addWidget(self.join_box)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        runner.run_db(lambda _ctx: sync.info(), on_done=self._show_info)

    def _show_info(self, info: TeamInfo) -> None:
        if info.team_id is None:
            self.info_label.setText(_("本机还没有加入团队。主管创建团队密钥后，其他同事粘贴密钥加入。"))
            return
        self.info_label.setText(
            _("本机已加入团队 {team_id}（显示名称：{name}）。创建或加入另一个团队会替换本机的团队。").format(
                team_id=info.team_id, name=info.name
            )
        )
        if not self.name_edit.text():
            self.name_edit.setText(info.name)

    def _opt_in(self, checked: bool) -> None:
        self._settings.team_key_unprotected_file = checked
        self._sync.allow_unprotected_file(checked)

    def _name(self) -> str | None:
        name = self.name_edit.text().strip()
        if not 1 <= len(name) <= 100:
            self.message.setText(_("请填写本机显示名称（1–100 个字符）。"))
            return None
        return name

    def create_team(self) -> None:
        name = self._name()
        if name is None:
            return
        self._busy(True)
        sync, actor_id = self._sync, self._actor_id
        self._runner.run_db(
            lambda _ctx: sync.create_team(name=name, actor_id=actor_id),
            on_done=self._created,
            on_error=self._failed,
        )

    def _created(self, result: tuple[str, KeyLocation | None]) -> None:
        text, location = result
        self._busy(False)
        self.key_view.setText(text)
        for widget in (self.key_view, self.copy_button, self.key_note):
            widget.show()
        self.create_button.setEnabled(False)
        self.message.setText(self._where(location))
        self.joined.emit()

    def join_team(self) -> bool:
        text = self.key_edit.text()
        try:
            parse_team_key(text)  # at once, before any work: the message names the typo
        except TeamKeyError as exc:
            self.message.setText(_("团队密钥不正确：{message}").format(message=exc.message))
            return False
        name = self._name()
        if name is None:
            return False
        self._busy(True)
        sync, actor_id = self._sync, self._actor_id
        self._runner.run_db(
            lambda _ctx: sync.join_team(key_text=text, name=name, actor_id=actor_id),
            on_done=self._joined,
            on_error=self._failed,
        )
        return True

    def _joined(self, result: tuple[str, KeyLocation | None]) -> None:
        team_id, location = result
        self._busy(False)
        self.key_edit.clear()
        self.message.setText(
            _("已加入团队 {team_id}。{where}").format(team_id=team_id, where=self._where(location))
        )
        self.joined.emit()

    def _where(self, location: KeyLocation | None) -> str:
        if location is None:
            return _("团队密钥来自环境变量，未另行保存。")
        return _("团队密钥保存在{place}。").format(place=_(LOCATION_TEXT[location]))

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        self.message.setText(_("{exc}\n本机的团队设置没有改变。").format(exc=exc))

    def _busy(self, busy: bool) -> None:
        self.join_button.setEnabled(not busy)
        self.key_edit.setEnabled(not busy)
