"""The PySide6 window: a thin layer over the Qt-free :mod:`inspector.core`."""

__all__: list[str] = []
