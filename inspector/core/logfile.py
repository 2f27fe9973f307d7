"""The window's log file, in the platform's log folder, rotated so it never grows unbounded.

Users attach it to a bug report (Help > Open log folder): it holds what inspector's modules
log (warnings and errors of capture, the store, plans, tasks) and the lines the capture child
writes to stderr, with the time and the module of each.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from inspector.core.paths import user_log_dir

__all__ = ["LOG_BACKUPS", "LOG_FILE_NAME", "LOG_MAX_BYTES", "install_log_file", "remove_log_file"]

LOG_FILE_NAME = "inspector.log"
#: One file stays small enough to attach to an issue; three old ones keep the last sessions.
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 3
_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


def install_log_file(folder: Path | None = None, level: int = logging.INFO,
                     max_bytes: int = LOG_MAX_BYTES) -> Path:
    """Send ``inspector.*`` loggers to ``folder/inspector.log`` (default: the platform's log
    folder), rotating at ``max_bytes``; returns the file's path. Calling it again
    with the same file adds no second handler."""
    folder = user_log_dir() if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE_NAME
    logger = logging.getLogger("inspector")
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path:
            return path
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=LOG_BACKUPS, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter(_FORMAT))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return path


def remove_log_file(path: Path) -> None:
    """Close and detach the handler :func:`install_log_file` added for ``path``."""
    logger = logging.getLogger("inspector")
    for handler in list(logger.handlers):
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path:
            logger.removeHandler(handler)
            handler.close()
