"""Tiny widget helpers."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

__all__ = ["compact_table", "fit_to_screen", "named"]

_T = TypeVar("_T", bound=QObject)


def named(obj: _T, name: str, **properties: object) -> _T:
    """Set ``obj``'s objectName (and Qt properties, which PySide's stubs do not type as
    constructor keywords), returning it."""
    obj.setObjectName(name)
    for key, value in properties.items():
        obj.setProperty(key, value)
    return obj


def compact_table(view: QTableView, stretch: int | None = None) -> QTableView:
    """Single-line rows of one fixed height (no word wrap), ``stretch`` taking spare width."""
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    rows = view.verticalHeader()
    rows.setVisible(False)
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(view.fontMetrics().height() + 8)
    header = view.horizontalHeader()
    if stretch is None:
        header.setStretchLastSection(True)
    else:
        header.setStretchLastSection(False)
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


#: Room left for the window frame (title bar, borders), not known before the window shows.
FRAME_ALLOWANCE = 40


def fit_to_screen(window: QWidget, width: int, height: int) -> None:
    """Size ``window`` to ``width`` x ``height``, shrunk to its screen's available area (a
    1280x720 screen used to lose the status bar below its edge), and centre it there."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(width, height)
        return
    available = screen.availableGeometry()
    width = min(width, available.width())
    height = min(height, available.height() - FRAME_ALLOWANCE)
    window.resize(width, height)
    window.move(available.left() + (available.width() - width) // 2,
                available.top() + max(0, (available.height() - height - FRAME_ALLOWANCE) // 2))
