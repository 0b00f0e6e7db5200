"""Dispatch > Case store: keep the project's cases in its file or in a PostGIS database,
and move them there. A thin view over ``citydesk.incidents.stores`` (the same functions as
``citydesk cases connect|migrate``); the work runs in the window's task runner."""

from __future__ import annotations

import os

from PyQt5.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from citydesk.incidents.stores import SETTING, checked_url, is_url, store_place
from citydesk.layers.errors import CityDeskError

from ..i18n import tr


class CaseStoreDialog(QDialog):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.project = window.project.path
        self.setWindowTitle(tr("Case store"))
        self.resize(820, 300)
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.url = QLineEdit()
        self.url.setPlaceholderText("postgresql://USER@HOST:PORT/DATABASE?schema=citydesk")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.password.setPlaceholderText(tr("leave empty to use PGPASSWORD or ~/.pgpass"))
        self.remember = QCheckBox(tr("Remember the password in the system keyring"))
        form = QFormLayout()
        form.addRow(tr("Cases are in"), self.where)
        form.addRow(tr("PostGIS URL"), self.url)
        form.addRow(tr("Password"), self.password)
        form.addRow("", self.remember)
        self.connect_button = QPushButton(tr("Use this database"))
        self.connect_button.clicked.connect(self.connect_database)
        self.migrate_button = QPushButton(tr("Move the project's cases into it"))
        self.migrate_button.clicked.connect(self.migrate)
        self.file_button = QPushButton(tr("Use the project file"))
        self.file_button.clicked.connect(self.use_file)
        actions = QHBoxLayout()
        for button in (self.connect_button, self.migrate_button, self.file_button):
            actions.addWidget(button)
        actions.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(48)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addLayout(actions)
        column.addWidget(self.status, 1)
        column.addWidget(buttons)
        self.show_place()

    def show_place(self) -> None:
        place = store_place(self.project)
        if is_url(place):
            self.where.setText(tr("PostGIS: {where}").format(where=place))
            self.url.setText(str(place))
        else:
            self.where.setText(tr("this project file"))
        self.file_button.setEnabled(is_url(place))
        self.migrate_button.setEnabled(not is_url(place))

    def _url(self) -> str | None:
        """The URL as the project keeps it (checked; no password in it), with the
        password handed to libpq or the keyring."""
        from citydesk.layers.pg_url import save_password

        try:
            url = checked_url(self.url.text())
            if self.password.text():
                if self.remember.isChecked():
                    save_password(url, self.password.text())
                else:  # for this session only: libpq reads it, nothing is written
                    os.environ["PGPASSWORD"] = self.password.text()
        except CityDeskError as exc:
            self.status.setText(f"{exc} {exc.fix}")
            return None
        return url.redacted()

    def _placed(self, url: str | None) -> None:
        """The window's copy of the project settings follows the file, so saving the
        project later keeps the choice."""
        self.window.project.metadata[SETTING] = {"url": url} if url else None
        self.show_place()

    def connect_database(self):
        from citydesk.incidents.stores import connect_project

        return self._run(
            tr("Connecting to the case store"),
            lambda project, url, _feedback: connect_project(project, url),
            lambda result: tr("Connected: {n} cases in {where}.").format(
                n=result[0], where=result[1]
            ),
        )

    def migrate(self):
        from citydesk.incidents.stores import migrate_project

        return self._run(
            tr("Moving the cases"),
            migrate_project,
            lambda result: tr(
                "Moved {cases} cases and {events} events to {where}; counts and checksum verified."
            ).format(cases=result[0].cases, events=result[0].events, where=result[1]),
        )

    def _run(self, title: str, work, message):
        """``work(project, url, feedback)`` in the background, the desk closed meanwhile;
        then the project points at the URL and ``message(result)`` says what happened."""
        url = self._url()
        if url is None:
            return None
        self.window.close_desk()
        project = self.project

        def done(result) -> None:
            self._placed(url)
            self.status.setText(message(result))

        return self.window.tasks.start(
            title, lambda feedback: work(project, url, feedback), on_done=done
        )

    def use_file(self) -> None:
        from citydesk.incidents.stores import use_project_file

        self.window.close_desk()
        use_project_file(self.project)
        self._placed(None)
        self.status.setText(tr("The project's cases are in its file again."))
