"""The window's log file: where it goes, what it holds, and that it rotates."""

from __future__ import annotations

import logging
from pathlib import Path

from inspector.core.logfile import LOG_BACKUPS, LOG_FILE_NAME, install_log_file, remove_log_file
from inspector.core.paths import user_log_dir


def test_the_log_goes_to_the_platform_log_folder_with_time_module_and_level() -> None:
    path = install_log_file()
    try:
        assert path == user_log_dir() / LOG_FILE_NAME
        assert str(path).startswith(str(Path.home()))  # the isolated test home, per user
        logging.getLogger("inspector.core.store.writer").warning("disk is %s", "full")
        line = path.read_text(encoding="utf-8").splitlines()[-1]
        assert "WARNING inspector.core.store.writer: disk is full" in line
        assert install_log_file() == path  # a second install adds no second handler
        handlers = [h for h in logging.getLogger("inspector").handlers
                    if getattr(h, "baseFilename", None) == str(path)]
        assert len(handlers) == 1
    finally:
        remove_log_file(path)


def test_the_log_rotates_and_keeps_a_bounded_number_of_old_files(tmp_path: Path) -> None:
    path = install_log_file(tmp_path, max_bytes=2_000)
    try:
        log = logging.getLogger("inspector.test")
        for number in range(400):
            log.info("line %d %s", number, "x" * 40)
    finally:
        remove_log_file(path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [LOG_FILE_NAME] + [f"{LOG_FILE_NAME}.{n}" for n in range(1, LOG_BACKUPS + 1)]
    assert all(p.stat().st_size <= 2_000 for p in tmp_path.iterdir())
    assert "line 399" in path.read_text(encoding="utf-8")
