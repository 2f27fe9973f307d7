"""The Qt-free core of inspector.

Everything under ``inspector.core`` imports and runs without PySide6: the capture endpoint, request
parsing, the SQLite store, tracking plans and validation, the replay client and settings. The
PySide6 window is a thin layer over it; an import-linter contract keeps it that way.
"""
