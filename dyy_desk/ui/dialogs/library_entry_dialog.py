"""新建 / 编辑 one FAQ entry or script (supervisors). The service checks the draft exactly as it checks an
imported row, so its message is shown as is; the dialog stays open with everything typed kept."""

from __future__ import annotations

import re

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import _
from dyy_desk.core.library_rows import LibraryKind
from dyy_desk.core.placeholders import KNOWN_PLACEHOLDERS, unknown_placeholders
from dyy_desk.core.types import PLATFORM_LABELS, ClientRow, Platform
from dyy_desk.services.errors import ServiceError
from dyy_desk.services.library_service import LibraryService
from dyy_desk.services.library_views import FaqDraft, FaqEntry, ScriptDraft, ScriptEntry
from dyy_desk.ui.signals import AppSignals
from dyy_desk.ui.tasks import TaskRunner

_SPLIT = re.compile(r"[,，、;；|｜\s]+")


class LibraryEntryDialog(QDialog):
    saved = Signal(str)  # the saved entry's title

    def __init__(
        self,
        *,
        kind: LibraryKind,
        library: LibraryService,
        runner: TaskRunner,
        signals: AppSignals,
        user_id: str,
        clients: list[ClientRow],
        entry: FaqEntry | ScriptEntry | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._kind = kind
        self._library = library
        self._runner = runner
        self._signals = signals
        self._user_id = user_id
        self._entry = entry
        faq = kind is LibraryKind.FAQ
        noun = "FAQ" if faq else _("话术")
        self.setWindowTitle((_("编辑{noun}") if entry else _("新建{noun}")).format(noun=noun))
        self.title_edit = QLineEdit()
        self.body_edit = QPlainTextEdit()
        self.body_edit.setTabChangesFocus(True)
        self.similar_edit = QPlainTextEdit()
        self.similar_edit.setTabChangesFocus(True)
        self.similar_edit.setPlaceholderText(_("一行一个，例如：钱什么时候退回来"))
        self.tags_edit = QLineEdit()
        self.tags_edit.setPlaceholderText(_("用逗号分隔，例如：退款，售后"))
        self.group_edit = QLineEdit()
        self.shortcut_edit = QLineEdit()
        self.shortcut_edit.setPlaceholderText(_("以 / 开头，例如 /thh"))
        self.client_combo = QComboBox()
        self.client_combo.addItem(_("通用（所有客户）"), None)
        for client in clients:
            self.client_combo.addItem(client.name, client.id)
        self.platform_boxes: dict[Platform, QCheckBox] = {}
        platforms = QGridLayout()
        for i, (platform, label) in enumerate(PLATFORM_LABELS.items()):
            box = QCheckBox(_(label))
            self.platform_boxes[platform] = box
            platforms.addWidget(box, i // 4, i % 4)
        half = (len(KNOWN_PLACEHOLDERS) + 1) // 2
        known = [
            "　".join("{" + p + "}" for p in part)
            for part in (KNOWN_PLACEHOLDERS[:half], KNOWN_PLACEHOLDERS[half:])
        ]
        # Explicit lines, no word wrap: a wrapped label inside a form layout does not grow with its text.
        self.placeholder_label = QLabel(_("可用占位符：") + known[0] + "\n　　　　　　" + known[1])
        self.placeholder_label.setObjectName("mutedLabel")
        self.warning_label = QLabel()
        self.warning_label.setObjectName("errorLabel")
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(_("问题") if faq else _("标题"), self.title_edit)
        form.addRow(_("答案") if faq else _("内容"), self.body_edit)
        form.addRow("", self.placeholder_label)
        form.addRow("", self.warning_label)
        if faq:
            form.addRow(_("相似问法"), self.similar_edit)
            form.addRow(_("标签"), self.tags_edit)
        else:
            form.addRow(_("分组"), self.group_edit)
            form.addRow(_("快捷编码"), self.shortcut_edit)
        form.addRow(_("客户"), self.client_combo)
        form.addRow(_("平台（不选为全部）"), platforms)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(_("保存"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("取消"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.body_edit.textChanged.connect(self._check_placeholders)
        if entry is not None:
            self._fill(entry)
        self._check_placeholders()
        em = self.fontMetrics().horizontalAdvance("中")
        self.resize(em * 44, self.sizeHint().height())

    def _fill(self, entry: FaqEntry | ScriptEntry) -> None:
        if isinstance(entry, FaqEntry):
            self.title_edit.setText(entry.question)
            self.body_edit.setPlainText(entry.answer)
            self.similar_edit.setPlainText("\n".join(entry.similar_questions))
            self.tags_edit.setText("，".join(entry.tags))
        else:
            self.title_edit.setText(entry.title)
            self.body_edit.setPlainText(entry.body)
            self.group_edit.setText(entry.group)
            self.shortcut_edit.setText(entry.shortcut or "")
        self.client_combo.setCurrentIndex(max(0, self.client_combo.findData(entry.client_id)))
        for platform, box in self.platform_boxes.items():
            box.setChecked(platform.value in entry.platforms)

    def _check_placeholders(self) -> None:
        unknown = unknown_placeholders(self.body_edit.toPlainText())
        names = "、".join("{" + u + "}" for u in unknown)
        self.warning_label.setText(_("⚠ 工单无法自动填写 {names}，复制时需手动填写").format(names=names))
        self.warning_label.setToolTip(self.warning_label.text())
        self.warning_label.setVisible(bool(unknown))

    def draft(self) -> FaqDraft | ScriptDraft:
        platforms = tuple(p.value for p, box in self.platform_boxes.items() if box.isChecked())
        client_id = self.client_combo.currentData()
        external_id = self._entry.external_id if self._entry else None
        if self._kind is LibraryKind.FAQ:
            similar = tuple(
                line.strip() for line in self.similar_edit.toPlainText().splitlines() if line.strip()
            )
            tags = tuple(t for t in _SPLIT.split(self.tags_edit.text()) if t)
            return FaqDraft(
                question=self.title_edit.text().strip(),
                answer=self.body_edit.toPlainText().strip(),
                similar_questions=similar,
                tags=tags,
                client_id=client_id,
                platforms=platforms,
                external_id=external_id,
            )
        return ScriptDraft(
            title=self.title_edit.text().strip(),
            body=self.body_edit.toPlainText().strip(),
            group=self.group_edit.text().strip(),
            shortcut=self.shortcut_edit.text().strip() or None,
            client_id=client_id,
            platforms=platforms,
            external_id=external_id,
        )

    def submit(self) -> None:
        draft = self.draft()
        library, user_id, entry_id = self._library, self._user_id, self._entry.id if self._entry else None
        self.buttons.setEnabled(False)
        self.error_label.hide()

        def save(_ctx: object) -> object:
            if isinstance(draft, FaqDraft):
                if entry_id is None:
                    return library.create_faq(user_id=user_id, draft=draft)[1]
                return library.update_faq(user_id=user_id, entry_id=entry_id, draft=draft)[1]
            if entry_id is None:
                return library.create_script(user_id=user_id, draft=draft)[1]
            return library.update_script(user_id=user_id, entry_id=entry_id, draft=draft)[1]

        title = draft.question if isinstance(draft, FaqDraft) else draft.title
        self._runner.run_db(save, on_done=lambda changes: self._saved(title, changes), on_error=self._failed)

    def _saved(self, title: str, changes: object) -> None:
        self._signals.operation_did_execute.emit(changes, self)
        self.saved.emit(title)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        if isinstance(exc, ServiceError | PermissionError):
            self.error_label.setText(_("未保存：{exc}").format(exc=exc))
        else:
            self.error_label.setText(_("未保存：出错了，详情已写入日志。填写的内容仍保留在这里。"))
        self.error_label.show()
