"""The PySide6 window: a thin layer over :mod:`inspector.core`."""
