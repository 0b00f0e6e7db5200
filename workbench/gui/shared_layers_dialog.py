"""Shared layers in the desktop: the database browser (the catalogue, searchable, and any
table or view), publishing a project layer, and editing one feature with its version check.

Thin views over ``citydesk.layers.shared_*`` (the same functions as ``citydesk layers
catalogue|add-shared|publish|edit``); database work runs in the window's task runner, so a
slow server never freezes the window.
"""

from __future__ import annotations

import os

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from citydesk.layers.errors import CityDeskError

from .i18n import tr

#: the last shared database used in this session (the dialogs start from it)
_last_url = {"url": ""}


class _DatabaseFields:
    """The URL and password rows every shared-layer dialog starts with. The password goes
    to libpq for this session or to the keyring, never into the project."""

    def __init__(self, form: QFormLayout) -> None:
        self.url = QLineEdit(_last_url["url"])
        self.url.setPlaceholderText("postgresql://USER@HOST:PORT/DATABASE")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.password.setPlaceholderText(tr("leave empty to use PGPASSWORD or ~/.pgpass"))
        self.remember = QCheckBox(tr("Remember the password in the system keyring"))
        form.addRow(tr("PostGIS URL"), self.url)
        form.addRow(tr("Password"), self.password)
        form.addRow("", self.remember)

    def url_or_say(self, status: QLabel) -> str | None:
        """The checked URL, or None with the reason shown in ``status``."""
        try:
            return self.checked_url()
        except CityDeskError as exc:
            status.setText(exc.message)
            return None

    def checked_url(self) -> str:
        """The URL without password (raises CityDeskError with the fix)."""
        from citydesk.layers.pg_url import StoreUrl, save_password

        url = StoreUrl.parse(self.url.text())
        if url.password:
            raise CityDeskError(
                tr("the URL carries a password, which would be kept in the project"),
                tr("Take it out of the URL and type it in the Password field."),
            )
        if self.password.text():
            if self.remember.isChecked():
                save_password(url, self.password.text())
            else:  # for this session only: libpq reads it, nothing is written
                os.environ["PGPASSWORD"] = self.password.text()
        _last_url["url"] = url.redacted()
        return url.redacted()


class SharedLayersDialog(QDialog):
    """Project > Add shared layer: the catalogue of the departments' layers, searchable,
    and any other table or view of the database."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.setWindowTitle(tr("Add shared layer"))
        self.resize(980, 560)
        form = QFormLayout()
        self.db = _DatabaseFields(form)
        self.search = QLineEdit()
        self.search.setPlaceholderText(tr("words in the title, department, description or licence"))
        form.addRow(tr("Search"), self.search)
        self.connect_button = QPushButton(tr("Connect and list the layers"))
        self.connect_button.clicked.connect(self.list_layers)
        self._search_timer = QTimer(self, singleShot=True, interval=300)
        self._search_timer.timeout.connect(self.list_layers)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        columns = [tr("Title"), tr("Department"), tr("Features"), tr("Updated"), tr("Licence"),
                   tr("Your access"), tr("Table")]  # fmt: skip
        self.table = QTableWidget(0, len(columns))
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.doubleClicked.connect(lambda _index: self.add_selected())
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.table.itemSelectionChanged.connect(self._describe)
        self.other = QLineEdit()
        self.other.setPlaceholderText(tr("schema.table or view (any table with a geometry)"))
        self.key = QLineEdit()
        self.key.setPlaceholderText(tr("key column, for a view"))
        other_row = QHBoxLayout()
        other_row.addWidget(self.other, 3)
        other_row.addWidget(self.key, 1)
        self.add_other_button = QPushButton(tr("Add this table"))
        self.add_other_button.clicked.connect(self.add_other)
        other_row.addWidget(self.add_other_button)
        self.add_button = QPushButton(tr("Add to project"))
        self.add_button.clicked.connect(self.add_selected)
        self.status = QLabel()
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.connect_button, 0, Qt.AlignLeft)
        column.addWidget(self.table, 1)
        column.addWidget(self.description)
        column.addWidget(self.add_button, 0, Qt.AlignLeft)
        column.addWidget(QLabel(tr("Or another table or view of the database:")))
        column.addLayout(other_row)
        column.addWidget(self.status)
        column.addWidget(buttons)
        self.entries: list = []
        self._url = ""

    def _checked(self) -> str | None:
        return self.db.url_or_say(self.status)

    def list_layers(self):
        from citydesk.layers.shared_catalogue import catalogue
        from citydesk.layers.shared_db import shared_database

        url = self._checked()
        if url is None:
            return None
        self._url = url
        words = self.search.text()
        self.status.setText(tr("Reading the catalogue ..."))
        return self.window.tasks.start(
            tr("Reading the layer catalogue"),
            lambda _feedback: catalogue(shared_database(url), words),
            on_done=self.show_entries,
        )

    def show_entries(self, entries: list) -> None:
        self.entries = entries
        self.table.setRowCount(len(entries))
        for row, e in enumerate(entries):
            access = (
                tr("read and write") if e.can_write else tr("read") if e.can_read else tr("none")
            )
            values = (
                e.title,
                e.department,
                f"{e.feature_count:,}",
                e.updated_at.strftime("%Y-%m-%d %H:%M"),
                e.licence,
                access + (" · " + tr("restricted") if e.restricted else ""),
                e.table,
            )
            for col, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                if col == 2:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.status.setText(tr("{n} shared layers").format(n=len(entries)))

    def _describe(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        if len(rows) == 1 and rows[0] < len(self.entries):
            e = self.entries[rows[0]]
            self.description.setText(
                f"{e.description}  ({e.geometry_type}, {e.crs}, "
                + tr("published by {who}").format(who=e.published_by)
                + ")"
            )

    def add_selected(self):
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        chosen = [self.entries[r] for r in rows if r < len(self.entries)]
        if not chosen:
            self.status.setText(tr("Choose a layer in the list first."))
            return None
        return self._add([(e.table, None, None) for e in chosen], self._url)

    def add_other(self):
        text = self.other.text().strip()
        if not text:
            self.status.setText(tr("Type the table's name, as schema.table."))
            return None
        schema, _dot, table = text.rpartition(".")
        url = self._checked()
        if url is None:
            return None
        return self._add([(table, schema or None, self.key.text().strip() or None)], url)

    def _add(self, tables: list[tuple[str, str | None, str | None]], url: str):
        """Open ``tables`` (name, schema, key) of the database at ``url`` in the background
        and add them to the project."""
        from citydesk.layers.shared_layer import open_shared_layer

        def work(_feedback):
            return [open_shared_layer(url, t, schema=s, key=k) for t, s, k in tables]

        def done(layers: list) -> None:
            for layer in layers:
                self.window.shared.add_layer(layer)
            self.status.setText(
                tr("Added: {names}").format(names=", ".join(lay.name for lay in layers))
            )

        return self.window.tasks.start(tr("Adding shared layers"), work, on_done=done)


class PublishDialog(QDialog):
    """Layer > Publish to shared database: the catalogue's description, who may read it,
    and whether the project then uses the shared table."""

    def __init__(self, window, layer) -> None:
        super().__init__(window)
        self.window = window
        self.layer = layer
        self.setWindowTitle(tr("Publish {name} to the shared database").format(name=layer.name))
        self.resize(720, 480)
        form = QFormLayout()
        self.db = _DatabaseFields(form)
        self.department = QComboBox()
        self.department.setEditable(True)
        load = QPushButton(tr("Load departments"))
        load.clicked.connect(self.load_departments)
        row = QHBoxLayout()
        row.addWidget(self.department, 1)
        row.addWidget(load)
        form.addRow(tr("Owner department"), row)
        self.table_name = QLineEdit(layer.id)
        self.title = QLineEdit(layer.name)
        self.description = QLineEdit()
        self.licence = QLineEdit()
        self.licence.setPlaceholderText("CC-BY-4.0")
        self.restricted = QCheckBox(tr("Restricted: only the departments below may read it"))
        self.readers = QLineEdit()
        self.readers.setPlaceholderText(tr("departments, separated by commas"))
        self.replace = QCheckBox(tr("Replace a table of the same name"))
        self.use_shared = QCheckBox(tr("The project then uses the shared table"))
        self.use_shared.setChecked(True)
        form.addRow(tr("Table"), self.table_name)
        form.addRow(tr("Title"), self.title)
        form.addRow(tr("Description"), self.description)
        form.addRow(tr("Licence"), self.licence)
        form.addRow("", self.restricted)
        form.addRow(tr("Readers"), self.readers)
        form.addRow("", self.replace)
        form.addRow("", self.use_shared)
        self.status = QLabel()
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.publish_button = buttons.addButton(tr("Publish"), QDialogButtonBox.AcceptRole)
        buttons.accepted.connect(self.publish)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.status, 1)
        column.addWidget(buttons)

    def _checked(self) -> str | None:
        return self.db.url_or_say(self.status)

    def load_departments(self):
        from citydesk.layers.shared_catalogue import departments
        from citydesk.layers.shared_db import shared_database

        url = self._checked()
        if url is None:
            return None

        def done(found: list) -> None:
            self.department.clear()
            mine = [d for d in found if d.member]
            for d in mine + [d for d in found if not d.member]:
                self.department.addItem(d.name if not d.title else f"{d.name} — {d.title}", d.name)
            if not mine:
                self.status.setText(tr("You are in no department of this database yet."))

        return self.window.tasks.start(
            tr("Reading the departments"),
            lambda _feedback: departments(shared_database(url)),
            on_done=done,
        )

    def options(self):
        from citydesk.layers.shared_publish import PublishOptions

        department = self.department.currentData() or self.department.currentText().split(" ")[0]
        readers = tuple(r.strip() for r in self.readers.text().split(",") if r.strip())
        return PublishOptions(
            department=department,
            table=self.table_name.text().strip() or None,
            title=self.title.text().strip() or None,
            description=self.description.text().strip(),
            licence=self.licence.text().strip(),
            restricted=self.restricted.isChecked(),
            readers=readers,
            replace=self.replace.isChecked(),
        )

    def publish(self):
        url = self._checked()
        if url is None:
            return None
        options = self.options()
        if not options.department:
            self.status.setText(tr("Choose the owner department (Load departments)."))
            return None
        return self.window.shared.publish(self.layer.id, url, options, self.use_shared.isChecked(),
                                         on_done=self._published)  # fmt: skip

    def _published(self, entry) -> None:
        self.status.setText(
            tr("Published as {table}: {n} features.").format(
                table=entry.table, n=entry.feature_count
            )
        )
        self.accept()


class FeatureEditDialog(QDialog):
    """Edit one feature of a shared layer. Saving checks the version it was read at: when
    someone else saved first, the dialog says so and shows their values to edit again."""

    def __init__(self, window, layer, key) -> None:
        super().__init__(window)
        self.window = window
        self.layer = layer
        self.key = key
        self.setWindowTitle(tr("Edit {name} #{key}").format(name=layer.name, key=key))
        self.form = QFormLayout()
        self.edits: dict[str, QLineEdit] = {}
        for field in layer.fields:
            if field == layer.table.key:
                continue
            edit = QLineEdit()
            self.edits[field] = edit
            self.form.addRow(field, edit)
        self.version_label = QLabel()
        self.status = QLabel()
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(self.form)
        column.addWidget(self.version_label)
        column.addWidget(self.status)
        column.addWidget(buttons)
        self.version = 0
        self.read_values: dict[str, str] = {}
        self.reload()

    def reload(self, feature=None) -> None:
        from citydesk.layers.shared_edits import read_feature

        feature = feature or read_feature(self.layer, self.key)
        if feature is None:
            self.status.setText(tr("This feature is no longer in the shared table."))
            return
        self.version = feature.version
        self.read_values = {}
        for field, edit in self.edits.items():
            value = feature.values.get(field)
            text = "" if value is None else str(value)
            self.read_values[field] = text
            edit.setText(text)
        self.version_label.setText(tr("Version {n}").format(n=feature.version))

    def changes(self) -> dict[str, str | None]:
        return {
            field: (edit.text() if edit.text() != "" else None)
            for field, edit in self.edits.items()
            if edit.text() != self.read_values.get(field, "")
        }

    def save(self) -> bool:
        from citydesk.layers.shared_edits import EditConflict, update_feature

        try:
            saved = update_feature(self.layer, self.key, self.version, self.changes())
        except EditConflict as exc:
            self.status.setText(exc.message)
            if exc.current is not None:
                self.reload(exc.current)
            return False
        except CityDeskError as exc:
            self.status.setText(exc.message)
            return False
        self.window.shared.data_changed(self.layer.id)
        self.reload(saved)
        self.accept()
        return True


def confirm_unavailable(window, layer_id: str, why: str) -> bool:
    """Ask before removing a layer the project cannot reach now (its settings go too)."""
    answer = QMessageBox.question(
        window,
        tr("Remove unavailable layer"),
        tr("Remove {id} from the project? It cannot be read now: {why}").format(
            id=layer_id, why=why
        ),
    )
    return answer == QMessageBox.Yes
