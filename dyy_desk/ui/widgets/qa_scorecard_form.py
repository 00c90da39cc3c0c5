"""The scorecard as a form: per item points to deduct with a comment, fatal items as checkboxes.

The live score is computed on the GUI thread with the pure core (microseconds); saving and submitting
go through the QA service, which checks the marks again against the exact scorecard version.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dyy_desk.core.i18n import _
from dyy_desk.core.qa_review import QAReview
from dyy_desk.core.qa_scorecard import TOTAL_POINTS, Scorecard
from dyy_desk.core.qa_scoring import Deduction, FatalHit, ScoringError, check_marks


class ScorecardForm(QWidget):
    marks_changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.card: Scorecard | None = None
        self.spins: dict[str, QSpinBox] = {}
        self.comments: dict[str, QLineEdit] = {}
        self.fatal_checks: dict[str, QCheckBox] = {}
        self.score_label = QLabel()
        self.score_label.setObjectName("detailTitle")
        self.hint_label = QLabel()
        self.hint_label.setObjectName("mutedLabel")
        self.hint_label.setWordWrap(True)
        self._body = QWidget()
        self._body_layout = QVBoxLayout(self._body)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.score_label)
        layout.addWidget(self.hint_label)
        layout.addWidget(scroll, 1)

    def set_card(self, card: Scorecard, review: QAReview | None, *, editable: bool) -> None:
        self.card = card
        self.spins.clear()
        self.comments.clear()
        self.fatal_checks.clear()
        while self._body_layout.count():
            item = self._body_layout.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        marked = {d.item_id: d for d in review.deductions} if review else {}
        hits = {h.fatal_id: h for h in review.fatal_hits} if review else {}
        for category in card.categories:
            box = QGroupBox(_("{name}（{points} 分）").format(name=category.name, points=category.points))
            grid = QGridLayout(box)
            grid.setColumnStretch(3, 1)
            for row, item in enumerate(category.items):
                name = QLabel(item.name)
                name.setToolTip(item.description)
                spin = QSpinBox()
                spin.setRange(0, item.points)
                spin.setPrefix(_("扣 "))
                spin.setSuffix(_(" 分"))
                spin.setToolTip(
                    _("最多扣 {points} 分。{description}").format(
                        points=item.points, description=item.description
                    )
                )
                comment = QLineEdit()
                comment.setPlaceholderText(_("扣分说明（扣分时必填）"))
                if item.id in marked:
                    spin.setValue(
                        sum(d.points for d in review.deductions if d.item_id == item.id) if review else 0
                    )
                    comment.setText(marked[item.id].comment)
                limit = QLabel(f"/{item.points}")
                limit.setObjectName("mutedLabel")
                for widget in (spin, comment):
                    widget.setEnabled(editable)
                spin.valueChanged.connect(self._changed)
                comment.textChanged.connect(self._changed)
                grid.addWidget(name, row, 0)
                grid.addWidget(spin, row, 1)
                grid.addWidget(limit, row, 2)
                grid.addWidget(comment, row, 3)
                self.spins[item.id] = spin
                self.comments[item.id] = comment
            self._body_layout.addWidget(box)
        fatal_box = QGroupBox(_("致命项（一票否决：命中任意一项，总分记 0 分）"))
        fatal_grid = QGridLayout(fatal_box)
        fatal_grid.setColumnStretch(1, 1)
        for row, fatal in enumerate(card.fatal_items):
            check = QCheckBox(fatal.name)
            check.setToolTip(fatal.description)
            comment = QLineEdit()
            comment.setPlaceholderText(_("证据说明（勾选时必填）"))
            if fatal.id in hits:
                check.setChecked(True)
                comment.setText(hits[fatal.id].comment)
            for widget in (check, comment):
                widget.setEnabled(editable)
            check.toggled.connect(self._changed)
            comment.textChanged.connect(self._changed)
            fatal_grid.addWidget(check, row, 0)
            fatal_grid.addWidget(comment, row, 1)
            self.fatal_checks[fatal.id] = check
            self.comments[fatal.id] = comment
        self._body_layout.addWidget(fatal_box)
        self._body_layout.addStretch(1)
        self._changed()

    def marks(self) -> tuple[list[Deduction], list[FatalHit]]:
        deductions = [
            Deduction(item_id, spin.value(), self.comments[item_id].text().strip())
            for item_id, spin in self.spins.items()
            if spin.value() > 0
        ]
        hits = [
            FatalHit(fatal_id, self.comments[fatal_id].text().strip())
            for fatal_id, check in self.fatal_checks.items()
            if check.isChecked()
        ]
        return deductions, hits

    def _changed(self) -> None:
        if self.card is None:
            return
        deductions, hits = self.marks()
        fatal = bool(hits)
        score = 0 if fatal else TOTAL_POINTS - sum(d.points for d in deductions)
        passed = score >= self.card.pass_mark and not fatal
        verdict = _("合格") if passed else (_("不合格（命中致命项）") if fatal else _("不合格"))
        colour = "#2e7d32" if passed else "#c62828"
        self.score_label.setText(
            _("得分 {score} · <span style='color:{colour}'>{verdict}</span>").format(
                score=score, colour=colour, verdict=verdict
            )
        )
        self.score_label.setTextFormat(Qt.TextFormat.RichText)
        try:
            check_marks(self.card, deductions, hits)
            problems = ""
        except ScoringError as exc:
            problems = "；".join(exc.problems)
        base = _("{name} v{version} · 及格线 {pass_mark} 分").format(
            name=self.card.name, version=self.card.version, pass_mark=self.card.pass_mark
        )
        self.hint_label.setText(
            f"{base}<br><span style='color:#c62828'>{problems}</span>" if problems else base
        )
        self.marks_changed.emit()
