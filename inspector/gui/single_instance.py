"""One window per profile: a second launch brings the first window to the front.

The first instance listens on a QLocalServer (a Unix socket, a Windows named pipe) whose name
is derived from the data folder, so two profiles (``XDG_DATA_HOME``, another user) each get
their own window, while two launches over the same database never fight over its port. A
second launch connects, asks the first to raise its window and prints where it captures.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

__all__ = ["SingleInstance", "server_name"]

#: How long a second launch waits for the first instance to answer.
ANSWER_TIMEOUT_MS = 3_000


def server_name(data_folder: Path) -> str:
    """The local server's name for the profile whose data lives in ``data_folder``."""
    digest = hashlib.sha256(str(data_folder.resolve()).encode()).hexdigest()[:16]
    return f"inspector-{digest}"


class SingleInstance(QObject):
    """The profile's lock and doorbell: :meth:`claim` or :meth:`ring_running`."""

    #: Another launch asked this instance to show itself.
    sig_activate = Signal()

    def __init__(self, data_folder: Path, describe: Callable[[], dict[str, Any]] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(data_folder)
        #: What this instance tells a second launch (its pid, capture URL).
        self.describe = describe or (lambda: {})
        self._server: QLocalServer | None = None

    def ring_running(self) -> dict[str, Any] | None:
        """Ask a running instance to raise its window: what it says about itself (``pid``,
        ``url``), or ``None`` when no instance of this profile runs."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(ANSWER_TIMEOUT_MS):
            return None
        socket.write(QByteArray(b"activate\n"))
        socket.flush()
        answer: dict[str, Any] = {}
        if socket.waitForReadyRead(ANSWER_TIMEOUT_MS):
            try:
                answer = json.loads(bytes(socket.readLine().data()))
            except ValueError:
                answer = {}
        socket.disconnectFromServer()
        return answer

    def claim(self) -> bool:
        """Listen as the profile's instance; ``False`` if another one took the name first."""
        server = QLocalServer(self)
        # Only this user may ring (a Unix socket's mode; a named pipe's ACL on Windows).
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        # Checked first: with UserAccessOption, Qt binds in a private folder and renames the
        # socket onto the name, which would silently take it from a running instance.
        if self._someone_listens():
            return False
        QLocalServer.removeServer(self.name)  # a socket file left by a killed instance
        if not server.listen(self.name):
            return False
        server.newConnection.connect(self._on_connection)
        self._server = server
        return True

    def _someone_listens(self) -> bool:
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        connected = socket.waitForConnected(ANSWER_TIMEOUT_MS)
        socket.abort()
        return connected

    def release(self) -> None:
        """Stop listening (the window closed)."""
        if self._server is not None:
            self._server.close()
            self._server = None

    def _on_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._answer(s))
            socket.disconnected.connect(socket.deleteLater)

    def _answer(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            return
        request = bytes(socket.readLine().data()).strip()
        if request == b"activate":
            answer = {"pid": os.getpid(), **self.describe()}
            socket.write(QByteArray(json.dumps(answer).encode() + b"\n"))
            socket.flush()
            self.sig_activate.emit()
