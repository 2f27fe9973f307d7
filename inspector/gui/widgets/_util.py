"""Tiny widget helpers."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QAbstractItemModel, QObject, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QTreeView, QWidget

__all__ = ["compact_table", "fit_to_screen", "named", "side_bar_tree"]

_T = TypeVar("_T", bound=QObject)


def named(obj: _T, name: str, **properties: object) -> _T:
    """Set ``obj``'s objectName (and Qt properties, which PySide's stubs do not type as
    constructor keywords), returning it."""
    obj.setObjectName(name)
    for key, value in properties.items():
        obj.setProperty(key, value)
    return obj


def side_bar_tree(model: QAbstractItemModel, name: str) -> QTreeView:
    """A tree for the ~280 px side bar: one wrapped column, rows selected whole.

    Check titles, step names and messages cut off in a side bar were the legibility complaint
    of issue 11, so only column 0 shows (its text carries the verdict); the model's other
    columns stay for wider views.
    """
    view = named(QTreeView(), name)
    view.setModel(model)
    view.setUniformRowHeights(False)
    view.setWordWrap(True)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setHeaderHidden(True)
    for column in range(1, model.columnCount()):
        view.setColumnHidden(column, True)
    view.header().setStretchLastSection(True)
    return view


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
