"""Where a side of a comparison comes from: a session of the database (by name or id), or an
NDJSON / HAR file imported for the comparison into a temporary database."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from inspector.core.compare.engine import Side
from inspector.core.compare.model import SideInfo
from inspector.core.store import EventStore

__all__ = ["SideError", "open_side"]


class SideError(Exception):
    """A side cannot be had; the message says why in one line (``inspector diff`` exits 2)."""


@contextmanager
def open_side(spec: str, store: EventStore | None, *, label: str = "side") -> Iterator[Side]:
    """The side ``spec`` names: a session of ``store`` (name, then id), else a file.

    A file is imported into a temporary database that is deleted on leaving the block.
    """
    session = store.find_session(spec) if store is not None else None
    if session is not None:
        assert store is not None
        yield Side(store, SideInfo(session.name, session.id, session.event_count),
                   db_path=store.path)
        return
    path = Path(spec)
    if not path.is_file():
        if store is None:
            raise SideError(f"{label} {spec!r}: no such file, and no capture database to find "
                            "a session in")
        raise SideError(f"{label} {spec!r}: no such session in {store.path}, and no such file")
    from inspector.core.exchange.importer import ImportFileError, import_file

    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="inspector-diff-"))
        scratch = EventStore(Path(folder) / "side.sqlite3")
        stack.callback(scratch.close)
        imported = scratch.create_session(path.name)
        try:
            summary = import_file(path, scratch, imported.id)
        except ImportFileError as error:
            raise SideError(f"{label} {spec!r}: {error}") from error
        if summary.events == 0:
            raise SideError(f"{label} {spec!r}: no Segment calls in the file "
                            f"({len(summary.skipped)} lines or entries skipped)")
        yield Side(scratch, SideInfo(path.name, imported.id, summary.events, file=str(path)),
                   db_path=scratch.path)
