"""A one-line message bar across the top of the window, with an optional action button."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from inspector.gui.widgets._util import named

__all__ = ["Banner", "ErrorBanner", "SessionBanner"]


class Banner(QWidget):
    """A message bar (plain text, wrapped) with an action button and, if ``closable``, a ✕."""

    def __init__(self, prefix: str, style: str, *, closable: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name = f"{prefix}Banner"
        self.setObjectName(name)
        self.label = named(QLabel(), f"{prefix}Text")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.action_button = named(QToolButton(), f"{prefix}Action")
        self.action_button.setAutoRaise(True)
        self.action_button.clicked.connect(self._on_action)
        self._action: Callable[[], Any] | None = None
        #: Whether the action hides the bar (a bar that states a condition stays until the
        #: condition ends).
        self.hide_on_action = closable
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        if closable:
            close = named(QToolButton(), f"{prefix}Close")
            close.setText("✕")
            close.setToolTip("Dismiss")
            close.setAutoRaise(True)
            close.clicked.connect(self.hide)
            layout.addWidget(close)
        self.setStyleSheet(style)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.hide()

    def show_message(self, text: str, action: tuple[str, Callable[[], Any]] | None = None) -> None:
        """Show ``text`` (plain), with a button for ``action`` (label, callable) if given."""
        self.label.setText(text)
        self._action = action[1] if action else None
        self.action_button.setText(action[0] if action else "")
        self.action_button.setVisible(action is not None)
        self.show()

    def _on_action(self) -> None:
        action = self._action
        if self.hide_on_action:
            self._action = None
            self.hide()
        if action is not None:
            action()

    def text(self) -> str:
        """The message shown, or ``""`` when hidden."""
        return self.label.text() if not self.isHidden() else ""


class ErrorBanner(Banner):
    """A dismissable problem at the top of the window (never a modal surprise)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "error",
            "#errorBanner { background: #D55E00; } #errorBanner QLabel, "
            "#errorBanner QToolButton { color: white; font-weight: bold; }",
            parent=parent,
        )


class SessionBanner(Banner):
    """Says that the table shows an older session while capture files new events elsewhere,
    with a button back to the capturing session (shown for as long as that is true)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "session",
            "#sessionBanner { background: #56B4E9; } #sessionBanner QLabel, "
            "#sessionBanner QToolButton { color: black; }",
            closable=False, parent=parent,
        )
