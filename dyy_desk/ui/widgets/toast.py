"""A brief confirmation that fades by itself (已复制 …): never a dialog, never takes the focus.

The toast is a child label of the top-level window it appears in, so it needs no window of its own,
works the same offscreen and cannot steal the keyboard from the agent's chat tool.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

TOAST_MS = 1800
_STYLE = (
    "QLabel#toast { background: rgba(33, 33, 33, 225); color: white; border-radius: 0.5em;"
    " padding: 0.4em 1em; }"
)


class Toast(QLabel):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("toast")
        self.setStyleSheet(_STYLE)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        window.installEventFilter(self)
        self.hide()

    def show_message(self, text: str, msecs: int = TOAST_MS) -> None:
        self.setText(text)
        self._place()
        self.show()
        self.raise_()
        self._timer.start(msecs)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    def _place(self) -> None:
        window = self.parentWidget()
        if window is None:
            return
        self.setMaximumWidth(max(window.width() - self.fontMetrics().height() * 2, 1))
        self.adjustSize()
        x = (window.width() - self.width()) // 2
        y = window.height() - self.height() - self.fontMetrics().height() * 2
        self.move(max(x, 0), max(y, 0))


def show_toast(widget: QWidget, text: str, msecs: int = TOAST_MS) -> Toast:
    """Show `text` over the bottom of `widget`'s window; one toast per window, reused."""
    window = widget.window()
    toast = window.findChild(Toast, options=Qt.FindChildOption.FindDirectChildrenOnly)
    if toast is None:
        toast = Toast(window)
    toast.show_message(text, msecs)
    return toast
