"""Replay destinations: add, edit, delete, test the connection.

The API key is typed into a password field and goes straight to the keyring with the Site ID
(:class:`~inspector.core.replay.CredentialStore`), or the destination names an environment
variable to read the key from at send time; the key is never put back into a field, logged or
exported. The dialog names the keyring backend in use, refuses a plaintext one unless the user
ticks the opt-in, and when the keyring cannot store the key it says why in a dialog and saves
nothing. Editing a destination without typing them keeps the stored credentials. "Test
connection" is a coroutine on the window's qasync loop (:class:`~inspector.gui.tasks.TaskRunner`);
its result comes back on the GUI thread.
"""

from __future__ import annotations

import os

from pydantic import SecretStr, ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inspector.core.replay import (
    ConnectionCheck,
    Credentials,
    Destination,
    DestinationStore,
    Marking,
    Mode,
    Region,
    ReplayClient,
)
from inspector.core.secrets import (
    ALLOW_PLAINTEXT_ENV,
    BackendKind,
    SecretStoreError,
    plaintext_allowed_by_environment,
)
from inspector.core.store.connection import Database
from inspector.gui.tasks import TaskRunner
from inspector.gui.widgets._util import named

__all__ = ["DestinationsDialog"]

_MODES = {
    "Classic (Track API v1)": Mode.CLASSIC,
    "Actions (Track API v2 batch)": Mode.ACTIONS,
    "Data Pipelines": Mode.PIPELINES,
}
_KEY_KEEP = "stored in the keyring: leave empty to keep"


class DestinationsDialog(QDialog):
    """Manage the Customer.io workspaces replay can send to."""

    #: The list of destinations changed (saved or deleted).
    sig_destinations_changed = Signal()
    #: "Test connection" finished (``ConnectionCheck``).
    sig_check_finished = Signal(object)

    def __init__(
        self, db: Database, destinations: DestinationStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Replay destinations")
        self.setObjectName("destinationsDialog")
        self.destinations = destinations or DestinationStore(db)
        self._editing: str | None = None
        #: Test connection is I/O: a coroutine on the window's qasync loop.
        self.tasks = TaskRunner(parent=self)

        self.list = named(QListWidget(), "destinationList")
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.new_button = named(QPushButton("New"), "newDestination")
        self.new_button.clicked.connect(self.new_destination)
        self.delete_button = named(QPushButton("Delete"), "deleteDestination")
        self.delete_button.clicked.connect(lambda: self.delete_destination())

        self.name = named(QLineEdit(), "destName")
        self.mode = named(QComboBox(), "destMode")
        self.mode.addItems(list(_MODES))
        self.region = named(QComboBox(), "destRegion")
        self.region.addItems(["US", "EU"])
        self.site_id = named(QLineEdit(), "destSiteId")
        self.api_key = named(QLineEdit(), "destApiKey")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        # No copy, drag or context menu out of the key field.
        self.api_key.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.api_key.setDragEnabled(False)
        self.key_state = named(QLabel(), "destKeyState")
        self.key_state.setTextFormat(Qt.TextFormat.PlainText)
        self.key_env = named(QLineEdit(), "destKeyEnv")
        self.key_env.setPlaceholderText("or: environment variable holding the key, e.g. "
                                        "CIO_API_KEY")
        self.key_env.setToolTip("Read the API key from this environment variable of inspector "
                                "at every replay: nothing is stored")
        backend = self.destinations.credentials.backend()
        self.backend = backend
        self.keyring_label = named(QLabel(f"Keys are kept in: {backend.description}"),
                                   "destKeyring")
        self.keyring_label.setTextFormat(Qt.TextFormat.PlainText)
        self.keyring_label.setWordWrap(True)
        if backend.kind in (BackendKind.PLAINTEXT, BackendKind.UNAVAILABLE):
            self.keyring_label.setStyleSheet("color: #D55E00;")
        self.allow_plaintext = named(
            QCheckBox("Store keys in this plaintext file anyway"), "destAllowPlaintext")
        self.allow_plaintext.setChecked(self.destinations.credentials.allow_plaintext
                                        or plaintext_allowed_by_environment())
        self.allow_plaintext.setVisible(backend.kind is BackendKind.PLAINTEXT)
        self.allow_plaintext.toggled.connect(self._on_allow_plaintext)
        #: The last "could not save" dialog (kept for tests and so it is not collected).
        self.error_box: QMessageBox | None = None
        self.host = named(QLineEdit(), "destHost")
        self.host.setPlaceholderText("default host of the region")
        self.marking = named(QComboBox(), "destMarking")
        self.marking.addItems(["staging", "production"])
        self.send_anonymous = named(QCheckBox("Send anonymous track/page/screen (Classic)"),
                                    "destAnonymous")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Mode", self.mode)
        form.addRow("Region", self.region)
        form.addRow("Site ID", self.site_id)
        form.addRow("API key", self.api_key)
        form.addRow("", self.key_env)
        form.addRow("", self.key_state)
        form.addRow("", self.keyring_label)
        form.addRow("", self.allow_plaintext)
        form.addRow("Track host override", self.host)
        form.addRow("Workspace", self.marking)
        form.addRow("", self.send_anonymous)

        self.save_button = named(QPushButton("Save"), "saveDestination")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(lambda: self.save())
        self.test_button = named(QPushButton("Test connection"), "testConnection")
        self.test_button.clicked.connect(self.test_connection)
        self.message = named(QLabel(), "destMessage")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)

        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        left_buttons = QHBoxLayout()
        left_buttons.addWidget(self.new_button)
        left_buttons.addWidget(self.delete_button)
        left.addLayout(left_buttons)
        right = QVBoxLayout()
        right.addLayout(form)
        actions = QHBoxLayout()
        actions.addWidget(self.test_button)
        actions.addStretch(1)
        actions.addWidget(self.save_button)
        right.addLayout(actions)
        right.addWidget(self.message)
        right.addStretch(1)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(right, 2)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(close)
        self.resize(760, 420)
        self.refresh()
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.new_destination()

    # ---- list

    def refresh(self, select: str | None = None) -> None:
        """Re-read the destinations."""
        self.list.blockSignals(True)
        self.list.clear()
        for destination in self.destinations.list():
            label = destination.name
            if destination.marking is Marking.PRODUCTION:
                label += "  (production)"
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, destination.name)
            self.list.addItem(item)
            if destination.name == select:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self.delete_button.setEnabled(self.list.count() > 0)

    def names(self) -> list[str]:
        """Names in the list (for tests)."""
        return [str(self.list.item(row).data(Qt.ItemDataRole.UserRole))
                for row in range(self.list.count())]

    def _on_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self.edit(str(current.data(Qt.ItemDataRole.UserRole)))

    # ---- form

    def new_destination(self) -> None:
        """Empty the form for a new destination."""
        self._editing = None
        self.list.clearSelection()
        for field in (self.name, self.site_id, self.api_key, self.host, self.key_env):
            field.clear()
        self.mode.setCurrentIndex(0)
        self.region.setCurrentIndex(0)
        self.marking.setCurrentIndex(0)
        self.send_anonymous.setChecked(False)
        self.site_id.setPlaceholderText("")
        self.api_key.setPlaceholderText("required")
        self.key_state.setText("")
        self.message.setText("")
        self.name.setFocus()

    def edit(self, name: str) -> None:
        """Put destination ``name`` in the form (never its credentials)."""
        destination = self.destinations.get(name)
        if destination is None:
            return
        self._editing = name
        self.name.setText(destination.name)
        self.mode.setCurrentText(next(k for k, v in _MODES.items() if v is destination.mode))
        self.region.setCurrentText(destination.region.name)
        self.marking.setCurrentText(str(destination.marking))
        self.host.setText(destination.track_host or "")
        self.send_anonymous.setChecked(destination.send_anonymous)
        self.site_id.clear()
        self.api_key.clear()
        self.key_env.setText(destination.api_key_env or "")
        self.message.setText("")
        if destination.api_key_env is not None:
            self.site_id.setPlaceholderText(_KEY_KEEP if destination.site_id else "")
            self.api_key.setPlaceholderText("read from the environment variable below")
            present = destination.api_key_env in os.environ
            self.key_state.setText(
                f"✓ the key is read from ${destination.api_key_env} at each replay"
                if present else f"⚠ ${destination.api_key_env} is not set in inspector's "
                "environment: replay will refuse to start")
            return
        try:
            stored = self.destinations.credentials.get(name) is not None
        except SecretStoreError as error:
            self.site_id.setPlaceholderText("")
            self.api_key.setPlaceholderText("required")
            self.key_state.setText(f"⚠ {error}")
            return
        self.site_id.setPlaceholderText(_KEY_KEEP if stored else "")
        self.api_key.setPlaceholderText(_KEY_KEEP if stored else "required")
        self.key_state.setText(f"✓ credentials in the {self.backend.name}" if stored
                               else "⚠ no credentials stored: type the API key")

    def destination_from_form(self) -> Destination:
        """The destination the form describes; raises ``ValueError`` when invalid."""
        previous = self.destinations.get(self._editing) if self._editing else None
        extra = previous.model_dump(include={"convert_to_unix_time", "batch_size"}) if previous \
            else {}
        key_env = self.key_env.text().strip() or None
        site_id = ""
        if key_env is not None:
            # The key stays in the environment; the Site ID (an identifier) is kept with it.
            site_id = self.site_id.text().strip() or (previous.site_id if previous else "")
        try:
            return Destination(
                name=self.name.text().strip(),
                mode=_MODES[self.mode.currentText()],
                region=Region(self.region.currentText().lower()),
                marking=Marking(self.marking.currentText()),
                track_host=self.host.text().strip() or None,
                send_anonymous=self.send_anonymous.isChecked(),
                api_key_env=key_env,
                site_id=site_id,
                **extra,
            )
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"{where}: {first['msg']}") from None

    def _credentials_from_form(self, destination: Destination) -> Credentials | None:
        """Typed credentials merged with the stored ones (``None`` if there are none)."""
        if destination.api_key_env is not None:
            return self.destinations.credentials_for(destination)
        stored = self.destinations.credentials.get(self._editing) if self._editing else None
        key = self.api_key.text()
        site_id = self.site_id.text().strip()
        if not key and stored is None:
            return None
        if not key:
            assert stored is not None
            return Credentials(site_id=site_id or stored.site_id, api_key=stored.api_key)
        return Credentials(site_id=site_id or (stored.site_id if stored else ""),
                           api_key=SecretStr(key))

    def _read_form(self, missing_key: str) -> tuple[Destination, Credentials] | None:
        """The form as a destination and its credentials, or ``None`` after saying what is
        missing (``missing_key`` when no API key was typed or stored)."""
        try:
            destination = self.destination_from_form()
            credentials = self._credentials_from_form(destination)
        except (ValueError, SecretStoreError) as error:
            self._show(str(error), ok=False)
            return None
        if credentials is None:
            if destination.api_key_env is not None:
                missing_key = (f"The environment variable {destination.api_key_env} is not "
                               "set in inspector's environment")
            self._show(missing_key, ok=False)
            return None
        return destination, credentials

    def save(self) -> bool:
        """Store the destination (credentials to the keyring); ``False`` with a message if not.

        All or nothing: when the keyring refuses or fails, a dialog says why and neither the
        destination nor its credentials are saved.
        """
        form = self._read_form(
            "Type the API key (it goes to the keyring, never the database), or name an "
            "environment variable that holds it")
        if form is None:
            return False
        destination, credentials = form
        if destination.mode is not Mode.PIPELINES and not credentials.site_id:
            self._show("Type the Site ID (Track API credentials are Site ID + API key)",
                       ok=False)
            return False
        renamed_from = self._editing if self._editing != destination.name else None
        if renamed_from is None and self._editing is None and \
                self.destinations.get(destination.name) is not None:
            self._show(f"There is already a destination called {destination.name!r}", ok=False)
            return False
        try:
            self.destinations.save(destination, credentials)
            if renamed_from is not None:
                self.destinations.delete(renamed_from)
        except SecretStoreError as error:
            self._refuse(destination.name, str(error))
            return False
        self.api_key.clear()
        self.site_id.clear()
        self.refresh(select=destination.name)
        self.edit(destination.name)
        where = (f"the key is read from ${destination.api_key_env}" if destination.api_key_env
                 else f"credentials are in the {self.backend.description}")
        self._show(f"Saved {destination.name!r}; {where}", ok=True)
        self.sig_destinations_changed.emit()
        return True

    def delete_destination(self, confirm: bool = True) -> None:
        """Delete the destination being edited, with its keyring entry."""
        name = self._editing
        if name is None:
            return
        if confirm:
            answer = QMessageBox.question(self, "Delete destination",
                                          f"Delete {name!r} and its stored credentials?")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.destinations.delete(name)
        self.refresh()
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.new_destination()
        self.sig_destinations_changed.emit()

    # ---- test connection

    def test_connection(self) -> bool:
        """Check the form's credentials and region on a worker thread; ``False`` if not started."""
        form = self._read_form("Type the API key to test the connection")
        if form is None:
            return False
        destination, credentials = form
        self.test_button.setEnabled(False)
        self._show("Testing…", ok=True)

        async def check() -> ConnectionCheck:
            async with ReplayClient(destination, credentials) as client:
                return await client.test_connection()

        self.tasks.run_async(
            check(), self._on_check_done, what="Test connection",
            on_error=lambda error: self._on_check_done(  # shown in the dialog
                ConnectionCheck(False, f"{type(error).__name__}: {error}")),
        )
        return True

    def _on_check_done(self, check: ConnectionCheck) -> None:
        self.test_button.setEnabled(True)
        if check.region_mismatch:
            self._show(f"⚠ {check.message}", ok=False)
        else:
            self._show(("✓ " if check.ok else "✕ ") + check.message, ok=check.ok)
        self.sig_check_finished.emit(check)

    def _refuse(self, name: str, reason: str) -> None:
        """Say in a dialog (and the form) why ``name`` was not saved."""
        text = f"{name!r} was not saved: {reason}"
        self._show(text, ok=False)
        box = QMessageBox(QMessageBox.Icon.Warning, "Destination not saved", text,
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("destNotSaved")
        box.setInformativeText(
            "Nothing was stored. Name an environment variable that holds the key instead, or "
            "unlock or install an OS keyring."
            + (f" To use the plaintext file anyway, tick “Store keys in this plaintext file "
               f"anyway” (or set {ALLOW_PLAINTEXT_ENV}=1)."
               if self.backend.kind is BackendKind.PLAINTEXT else ""))
        box.open()  # window-modal, not a nested event loop
        self.error_box = box

    def _on_allow_plaintext(self, allowed: bool) -> None:
        self.destinations.credentials.allow_plaintext = allowed

    def _show(self, text: str, *, ok: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("" if ok else "color: #D55E00; font-weight: bold;")

    def done(self, result: int) -> None:
        self.tasks.cancel()  # a test still running is cancelled with the dialog
        super().done(result)
