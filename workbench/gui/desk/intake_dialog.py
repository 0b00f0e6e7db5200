"""Intake: a new case at a map click or a typed address, a category picked from the
catalogue by searching in English or Chinese, and the possible duplicates shown before the
case is registered, with the choice to merge the new report into the original."""

from __future__ import annotations

import datetime as dt

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from citydesk.incidents.desk import DispatchDesk
from citydesk.incidents.lifecycle import allowed_actions
from citydesk.incidents.new_cases import NewCase
from citydesk.layers.errors import CityDeskError

from ..i18n import tr


class IntakeDialog(QDialog):
    def __init__(
        self,
        desk: DispatchDesk,
        lon: float | None = None,
        lat: float | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        self.lon, self.lat = lon, lat
        self.created = None  # the Case, once submitted
        self.setWindowTitle(tr("Report a case"))
        self.setMinimumWidth(560)  # a place label "street 12: lat, lon" and category names fit
        self.place = QLabel()
        self.address = QLineEdit()
        self.address.setPlaceholderText(tr("house number and street"))
        find = QPushButton(tr("Find"))
        find.clicked.connect(self.find_address)
        self.address.returnPressed.connect(self.find_address)
        where = QHBoxLayout()
        where.addWidget(self.address, 1)
        where.addWidget(find)
        self.search = QLineEdit()
        self.search.setPlaceholderText(tr("search categories: code, English or 中文"))
        self.search.textChanged.connect(self._fill_categories)
        self.categories = QListWidget()
        self.categories.currentItemChanged.connect(lambda *_: self.check_duplicates())
        self.description = QPlainTextEdit()
        self.description.setFixedHeight(60)
        self.reporter = QLineEdit()
        self.priority = QSpinBox(minimum=1, maximum=5, value=3)
        self.duplicates = QListWidget()
        self.merge_button = QPushButton(tr("Merge into the selected case"))
        self.merge_button.clicked.connect(self.merge)
        self.duplicate_note = QLabel()
        self.duplicate_note.setWordWrap(True)  # a long message wraps, never widens the window
        form = QFormLayout()
        form.addRow(tr("Place"), self.place)
        form.addRow(tr("Address"), where)
        form.addRow(tr("Category"), self.search)
        form.addRow("", self.categories)
        form.addRow(tr("Description"), self.description)
        form.addRow(tr("Reporter"), self.reporter)
        form.addRow(tr("Priority (1 = urgent)"), self.priority)
        buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.submit_button = buttons.addButton(tr("Submit"), QDialogButtonBox.AcceptRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.duplicate_note)
        column.addWidget(self.duplicates)
        column.addWidget(self.merge_button)
        column.addWidget(buttons)
        self.error = QLabel()
        self.error.setWordWrap(True)  # a long message wraps, never widens the window
        self.error.setStyleSheet("color:#b71c1c")
        column.addWidget(self.error)
        self._fill_categories("")
        self._show_place()
        # merging cancels the new report, which only intake and the shift chief may do
        self.merge_button.setVisible("cancel" in allowed_actions("reported", desk.role))

    # --- place -----------------------------------------------------------------------------
    def _show_place(self, label: str = "") -> None:
        if self.lon is None:
            self.place.setText(tr("click the map or type an address"))
        else:
            # 5 decimals: about a metre, and the label with the address fits the dialog
            self.place.setText(f"{label + ': ' if label else ''}{self.lat:.5f}, {self.lon:.5f}")
        self.check_duplicates()

    def find_address(self) -> None:
        try:
            hit = self.desk.locate(self.address.text())
        except CityDeskError as exc:
            # forget the previous place: a case must never be filed where an earlier lookup
            # or click put it while the clerk believes it is at the address just typed
            self.lon = self.lat = None
            self._show_place()
            self.error.setText(exc.message)
            return
        self.error.setText("" if hit.exact else tr("not an exact match: the nearest house number"))
        self.lon, self.lat = hit.lon, hit.lat
        self._show_place(hit.label)

    # --- category --------------------------------------------------------------------------
    def _fill_categories(self, text: str) -> None:
        self.categories.clear()
        for cat in self.desk.store.catalogue.search(text):
            item = QListWidgetItem(f"{cat.label('en')}  ·  {cat.name('zh_CN')}")
            item.setData(Qt.UserRole, (cat.kind, cat.code))
            self.categories.addItem(item)
        if self.categories.count() == 1:
            self.categories.setCurrentRow(0)

    def category(self) -> tuple[str, str] | None:
        item = self.categories.currentItem()
        return item.data(Qt.UserRole) if item is not None else None

    # --- duplicates and submit -------------------------------------------------------------
    def new_case(self) -> NewCase | None:
        category = self.category()
        if category is None or self.lon is None:
            return None
        return NewCase(
            category[0],
            category[1],
            lon=self.lon,
            lat=self.lat,
            description=self.description.toPlainText().strip(),
            source="desk",
            reporter_name=self.reporter.text().strip(),
            priority=self.priority.value(),
            reported_at=dt.datetime.now(dt.UTC),
        )

    def check_duplicates(self) -> None:
        self.duplicates.clear()
        new = self.new_case()
        near = self.desk.duplicates_of(new) if new is not None else []
        for r in near.itertuples() if len(near) else []:
            item = QListWidgetItem(
                tr("{id}: {m:.0f} m away, {h:.1f} h apart, {status}").format(
                    id=r.case_id, m=r.distance_m, h=r.hours_apart, status=r.status
                )
            )
            item.setData(Qt.UserRole, r.case_id)
            self.duplicates.addItem(item)
        found = self.duplicates.count()
        self.duplicate_note.setText(
            tr("Possible duplicates: {n}. Check them before you submit.").format(n=found)
            if found
            else ""
        )
        self.duplicate_note.setStyleSheet("color:#e65100; font-weight:bold" if found else "")
        if found:
            self.duplicates.setCurrentRow(0)
        self.duplicates.setVisible(bool(found))
        self.merge_button.setEnabled(bool(found))

    def submit(self) -> None:
        new = self.new_case()
        if new is None:
            self.error.setText(tr("Choose a category and a place first."))
            return
        try:
            self.created = self.desk.report(new)
        except CityDeskError as exc:
            self.error.setText(str(exc))
            return
        self.accept()

    def merge(self) -> None:
        """Report the new case and cancel it at once as a duplicate of the selected one, so
        the caller's report is kept and linked but no second crew is sent."""
        item = self.duplicates.currentItem()
        if item is None:
            return
        self.submit()
        if self.created is not None:
            self.created = self.desk.merge(self.created, item.data(Qt.UserRole))
