"""Project > City setup: which layer plays each role and which field holds what.

A thin view over :mod:`citydesk.layers.city_init` and :mod:`citydesk.layers.city_check`
(the same functions as ``citydesk city init|check|set``). The table lists every role and
its keys, each a drop-down of the project's layers or of the chosen layer's fields;
*Propose from the layers* fills it from the layer and field names, in English and Chinese;
the readiness list under it says, per feature, what is ready and what is missing, updated on
every change. The *Working calendar* tab (:mod:`.calendar_setup`) sets the hours, rest days
and holidays due times count on; the *Other settings (TOML)* tab holds every key without a
field of its own (planning costs, land-use codes, the city's own categories ...), read like
a profile file. *Save* checks the profile and stores it in the project.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields

from PyQt5 import sip
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QColor, QFont
from PyQt5.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from citydesk.layers.city_check import check_city, street_networks
from citydesk.layers.city_init import (
    SETUP_FIELD_KEYS,
    other_settings_toml,
    profile_to_toml,
    profile_toml,
    project_samples,
    propose,
    role_choices,
    role_keys,
    set_role_key,
    with_other_settings,
    working_crs,
)
from citydesk.layers.city_layers import ROLES, role_label
from citydesk.layers.city_profile import CityProfile, parse_profile, project_profile
from citydesk.layers.errors import CityDeskError
from citydesk.layers.project_store import project_empty_layers, project_layer_fields
from citydesk.layers.road_network import network_spec

from .calendar_setup import ERROR_STYLE, CalendarTab
from .i18n import tr

COLOURS = {"ready": "#2e7d32", "partly": "#b26a00", "missing": "#c62828"}


class CitySetupDialog(QDialog):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.path = window.project.path
        self.setWindowTitle(tr("City setup"))
        self.resize(960, 900)
        self.fields = project_layer_fields(self.path)
        self.empty = project_empty_layers(self.path)
        self.profile = project_profile(self.path) or self._blank()
        #: the road networks' reports for the streets settings ``_networks_key``; the key
        #: last asked for in the background (:meth:`_check_streets`)
        self.networks: dict = {}
        self._networks_key: tuple | None = None
        self._networks_asked: tuple | None = None
        self.name = QLineEdit(self.profile.name)
        self.timezone = QLineEdit(self.profile.timezone)
        self.currency = QLineEdit(self.profile.currency)
        self.crs = QLineEdit(self.profile.crs)
        self.admin_code = QLineEdit(self.profile.admin_code)
        self.admin_code.setPlaceholderText("510104")
        self.area_unit = QComboBox()
        self.area_unit.addItems(["m2", "sqft"])
        self.area_unit.setCurrentText(self.profile.area_unit)
        self.area_unit.currentTextChanged.connect(self._header_changed)
        for edit in (self.name, self.timezone, self.currency, self.crs, self.admin_code):
            # the readiness list follows the header too (it said "no admin_code" under a
            # typed code until Save)
            edit.textChanged.connect(self._header_changed)
        form = QFormLayout()
        form.addRow(tr("City"), self.name)
        form.addRow(tr("Time zone"), self.timezone)
        form.addRow(tr("Currency (ISO 4217)"), self.currency)
        form.addRow(tr("Working CRS"), self.crs)
        form.addRow(tr("Administrative code (6 digits, for grid codes)"), self.admin_code)
        form.addRow(tr("Unit of the floor-area fields"), self.area_unit)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels([tr("Role"), tr("Key"), tr("Layer or field")])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.checks = QListWidget()
        # a line can be long (the streets' hint names the setting to change): wrapped, not
        # cut at the edge behind a horizontal scroll bar
        self.checks.setWordWrap(True)
        self.checks.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.propose_button = QPushButton(tr("Propose from the layers"))
        self.propose_button.clicked.connect(self.propose)
        actions = QHBoxLayout()
        actions.addWidget(self.propose_button)
        actions.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layers_tab = QWidget()
        layers_layout = QVBoxLayout(layers_tab)
        layers_layout.addLayout(actions)
        layers_layout.addWidget(self.table)
        self.calendar = CalendarTab(self.profile)
        self.calendar.changed.connect(self._calendar_changed)
        self.tabs = QTabWidget()
        self.tabs.addTab(layers_tab, tr("Layers and fields"))
        self.tabs.addTab(self.calendar, tr("Working calendar"))
        # every other key of the profile (planning costs, land-use codes, the city's own
        # categories, routing rules, credits) as TOML, read like a profile file
        self.other = QPlainTextEdit()
        self._other_shown = ""  # the text last shown or applied: anything else is the user's
        self._bouncing = False
        self._show_other_settings()
        self.other.setFont(QFont("monospace"))
        self.tabs.addTab(self.other, tr("Other settings (TOML)"))
        self.tabs.currentChanged.connect(self._tab_changed)
        self._tab = 0
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.tabs, 4)
        layout.addWidget(QLabel(tr("What each feature has and lacks")))
        layout.addWidget(self.checks, 2)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self._fill()

    def _blank(self) -> CityProfile:
        """A profile to start from: the project's CRS, no roles yet."""
        text = profile_toml(
            propose([]), name=self.window.project.name, timezone="UTC", crs=working_crs(self.path)
        )
        return parse_profile(text)

    # --- the table ---------------------------------------------------------------------------
    def _fill(self) -> None:
        self.table.setRowCount(0)
        self.combos: dict[tuple[str, str], QComboBox] = {}
        for role in ROLES:
            for key in role_keys(role):
                row = self.table.rowCount()
                self.table.insertRow(row)
                self.table.setItem(
                    row, 0, QTableWidgetItem(role_label(role) if key == "layer" else "")
                )
                self.table.setItem(row, 1, QTableWidgetItem(key))
                combo = QComboBox()
                self.combos[(role, key)] = combo
                self.table.setCellWidget(row, 2, combo)
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(2, 360)
        self._load_choices()

    def _load_choices(self) -> None:
        """Each combo's choices and value from the profile: layers for a role's layer, the
        chosen layer's fields for its other keys."""
        for (role, key), combo in self.combos.items():
            combo.blockSignals(True)
            combo.clear()
            layer = self.profile.layers.layer_id(role)
            choices = sorted(self.fields) if key == "layer" else self.fields.get(layer or "", [])
            current = layer if key == "layer" else self.profile.layers.field_name(role, key)
            values = role_choices(role, key)  # a choice (junctions = "shared"), never blank
            if not values:
                combo.addItem("")
            combo.addItems(list(values) or [str(c) for c in choices])
            if current and combo.findText(str(current)) < 0:
                combo.addItem(str(current))  # mapped but absent: shown, and the check says so
            combo.setCurrentText(str(current or ""))
            combo.setEnabled(key == "layer" or bool(layer))
            combo.blockSignals(False)
            combo.currentTextChanged.connect(lambda text, r=role, k=key: self._changed(r, k, text))
        self._check()

    def _changed(self, role: str, key: str, value: str) -> None:
        set_role_key(self.profile, role, key, value)
        if key == "layer":
            self._load_choices()  # the fields offered follow the layer
        else:
            self._check()

    def _header_changed(self, _text: str = "") -> None:
        self._apply_header()
        if hasattr(self, "checks"):
            self._check()

    def _calendar_changed(self) -> None:
        self.status.clear()  # a refused Save's words are out of date once the calendar moves
        self._check()

    def _apply_header(self) -> None:
        self.profile.name = self.name.text().strip()
        self.profile.timezone = self.timezone.text().strip()
        self.profile.currency = self.currency.text().strip()
        self.profile.crs = self.crs.text().strip()
        self.profile.admin_code = self.admin_code.text().strip()
        self.profile.area_unit = self.area_unit.currentText()  # type: ignore[assignment]

    def _check(self) -> None:
        key = self._streets_key()
        if key is not None and key not in (self._networks_key, self._networks_asked):
            self._check_streets(key)
        networks = self.networks if key == self._networks_key else None
        self.checks.clear()
        for check in check_city(self.profile, self.fields, self.empty, networks):
            self.checks.addItem(check.line())
            item = self.checks.item(self.checks.count() - 1)
            item.setForeground(QColor(COLOURS[check.status]))
        if key is not None and networks is None:
            self.checks.addItem(tr("Checking whether the streets join up..."))

    def _streets_key(self) -> tuple | None:
        """What the road networks depend on: the streets layer and both modes' settings
        (None when no streets layer of the project is mapped)."""
        layer = self.profile.layers.layer_id("streets")
        if not layer or layer not in self.fields or layer in self.empty:
            return None
        try:
            return (
                layer,
                repr(network_spec(self.profile, "drive")),
                repr(network_spec(self.profile, "walk")),
            )
        except CityDeskError:
            return None  # a setting the check itself names

    def _check_streets(self, key: tuple) -> None:
        """Build the networks the profile describes in the background (a second on a city's
        streets; the list shows them when ready): how much of the street layer joins up,
        and which junctions setting its geometry points to, before anyone plans on it."""
        try:  # the worker gets its own copy: the table edits this one meanwhile
            profile = parse_profile(profile_to_toml(self.profile))
        except CityDeskError:
            return  # a header or key the list already names as wrong; asked again once fixed
        self._networks_asked = key
        path = self.path

        def done(networks) -> None:
            if sip.isdeleted(self) or self._networks_asked != key:
                return  # closed, or the settings changed again meanwhile
            self.networks, self._networks_key = networks, key
            self._check()

        self.window.tasks.start(
            tr("Checking the streets"), lambda _feedback: street_networks(path, profile), done
        )

    # --- actions -----------------------------------------------------------------------------
    def _tab_changed(self, index: int) -> None:
        """Leaving the TOML tab applies it (its own mistake said, and the tab shown again,
        as typed); coming to it shows the profile as it now stands, unless it holds text
        not yet applied."""
        left, self._tab = self._tab, index
        if self._bouncing:
            return
        if self.tabs.widget(left) is self.other:
            problem = self.apply_other_settings()
            if problem is not None and not _in_fields(problem):
                self._bouncing = True
                try:
                    self.tabs.setCurrentWidget(self.other)
                finally:
                    self._bouncing = False
        elif self.tabs.widget(index) is self.other and self._other_is_applied():
            self._show_other_settings()

    def _show_other_settings(self) -> None:
        self.other.setPlainText(other_settings_toml(self.profile))
        self._other_shown = self.other.toPlainText()

    def _other_is_applied(self) -> bool:
        return self.other.toPlainText() == self._other_shown

    def apply_other_settings(self) -> CityDeskError | None:
        """The *Other settings* tab's TOML into the profile, checked with the rest of it;
        what the validator says (also in the status line) when it does not pass."""
        self._apply_header()
        try:
            checked = with_other_settings(self.profile, self.other.toPlainText())
        except CityDeskError as exc:
            self.status.setText(exc.message)
            self.status.setStyleSheet(ERROR_STYLE)
            return exc
        for item in dataclass_fields(checked):
            if item.name not in SETUP_FIELD_KEYS:
                setattr(self.profile, item.name, getattr(checked, item.name))
        self._other_shown = self.other.toPlainText()
        self.status.clear()
        self._check()
        return None

    def propose(self) -> None:
        """Roles and fields from the layer and field names (keeps the calendar and the rest)."""
        if self.tabs.currentWidget() is self.other and self.apply_other_settings() is not None:
            return
        proposal = propose(project_samples(self.path))
        fresh = parse_profile(
            profile_toml(
                proposal,
                name=self.name.text() or self.profile.name,
                timezone=self.timezone.text() or self.profile.timezone,
                crs=self.crs.text() or self.profile.crs,
            )
        )
        self.profile.layers = fresh.layers
        if self.profile.calendar.holidays is None:  # the time zone's country, to check
            self.profile.calendar.holidays = fresh.calendar.holidays
            self.profile.calendar.rest_days = fresh.calendar.rest_days  # and its weekend
            self.calendar.load(self.profile)
        if not self.currency.text().strip() and fresh.currency:
            self.currency.setText(fresh.currency)
        if proposal.land_use_system:
            self.profile.land_use_system = proposal.land_use_system
        self.area_unit.setCurrentText(fresh.area_unit)  # the field names' or the country's
        self._load_choices()
        if self._other_is_applied():  # the proposal's land-use system; never over typing
            self._show_other_settings()
        self.status.setText(tr("Proposed from the names: check each line, then save."))

    def text(self) -> str:
        """The profile as it would be stored (header fields applied)."""
        self._apply_header()
        return profile_to_toml(self.profile)

    def save(self) -> None:
        from citydesk.layers.city_profile import SETTING, store_profile

        problem = self.apply_other_settings()
        if problem is not None:  # shown where it is: a field's in its tab, the TOML's there
            if not _in_fields(problem):
                self.tabs.setCurrentWidget(self.other)
            elif problem.key.startswith("calendar"):
                self.tabs.setCurrentWidget(self.calendar)
            return
        try:
            text = self.text()
            store_profile(self.path, text)
        except CityDeskError as exc:
            self.status.setText(exc.message)
            self.status.setStyleSheet(ERROR_STYLE)
            return
        # the window's project saves its settings over the file later: keep them in step
        self.window.project.metadata[SETTING] = text
        self.window.statusBar().showMessage(tr("City profile stored in the project"))
        self.accept()


def _in_fields(problem: CityDeskError) -> bool:
    """Whether the validator's complaint is about a key the dialog's own fields set (the
    header, the roles, the calendar) rather than the TOML tab's."""
    return problem.key.split(".")[0].split("[")[0] in SETUP_FIELD_KEYS
