"""City setup's *Working calendar* tab: the hours, rest days and holidays due times count on.

A thin view over the profile's ``[calendar]`` (:class:`~citydesk.layers.city_profile.
CalendarSpec`), checked by the profile's own validator as it is typed, and over
:mod:`citydesk.incidents.calendar_days`, which lists a year's holidays by name and its
make-up working days (调休) so the administrator sees what the settings amount to, the
same list ``citydesk city calendar`` prints. The tab edits the dialog's profile in place;
the dialog stores it with the rest on *Save*.
"""

from __future__ import annotations

import datetime as dt

from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from citydesk.incidents.calendar import calendar_from_profile
from citydesk.incidents.calendar_days import notable_days, weekday_names, working_time
from citydesk.layers.city_profile import (
    WEEKDAYS,
    CityProfile,
    HolidaySource,
    check_calendar,
    dates_from_text,
    dates_text,
    periods_from_text,
    periods_text,
)
from citydesk.layers.errors import CityDeskError

from .i18n import tr

ERROR_STYLE = "color: #c62828"


class CalendarTab(QWidget):
    """The calendar settings of ``profile`` and a year's notable days under them."""

    #: the settings changed (the profile holds them already)
    changed = pyqtSignal()

    def __init__(self, profile: CityProfile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.profile = profile
        self.periods = QLineEdit()
        self.periods.setPlaceholderText("09:00-12:00, 13:30-17:30")
        names = weekday_names()
        self.rest = [QCheckBox(name) for name in names]
        rest_row = QHBoxLayout()
        for box in self.rest:
            rest_row.addWidget(box)
        rest_row.addStretch(1)
        self.country = QLineEdit()
        self.country.setPlaceholderText("CN, FI, US ...")
        self.country.setMaximumWidth(90)
        self.subdivision = QLineEdit()
        self.subdivision.setPlaceholderText("MA")
        self.subdivision.setMaximumWidth(90)
        holidays_row = QHBoxLayout()
        holidays_row.addWidget(self.country)
        holidays_row.addWidget(QLabel(tr("subdivision")))
        holidays_row.addWidget(self.subdivision)
        holidays_row.addStretch(1)
        self.extra = QLineEdit()
        self.make_up = QLineEdit()
        self.worked = QLineEdit()
        for edit in (self.extra, self.make_up, self.worked):
            edit.setPlaceholderText("2026-06-30, 2026-07-01")
        form = QFormLayout()
        form.addRow(tr("Working hours of a day"), self.periods)
        form.addRow(tr("Rest days"), rest_row)
        form.addRow(tr("Public holidays of (ISO country code)"), holidays_row)
        form.addRow(tr("The city's own holidays"), self.extra)
        form.addRow(tr("Rest days worked (make-up days, 调休)"), self.make_up)
        form.addRow(tr("Public holidays the city works"), self.worked)
        self.year = QSpinBox()
        self.year.setRange(1900, 2199)
        self.year.setValue(dt.date.today().year)
        year_row = QHBoxLayout()
        year_row.addWidget(QLabel(tr("Holidays and make-up days in")))
        year_row.addWidget(self.year)
        year_row.addStretch(1)
        self.days = QTableWidget(0, 3)
        self.days.setHorizontalHeaderLabels([tr("Date"), tr("Day"), tr("What it is")])
        self.days.verticalHeader().setVisible(False)
        header = self.days.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.Stretch)
        self.days.setEditTriggers(QTableWidget.NoEditTriggers)
        self.days.setMinimumHeight(200)  # a season of holidays at a glance
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(year_row)
        layout.addWidget(self.days, 1)
        layout.addWidget(self.summary)
        self._edits = (
            self.periods,
            self.country,
            self.subdivision,
            self.extra,
            self.make_up,
            self.worked,
        )
        self.load(profile)
        for edit in self._edits:
            edit.textChanged.connect(self._edited)
        for box in self.rest:
            box.toggled.connect(self._edited)
        self.year.valueChanged.connect(lambda _year: self.refresh())

    def load(self, profile: CityProfile) -> None:
        """Show ``profile``'s calendar (on opening, and after *Propose* set its holidays)."""
        self.profile = profile
        spec = profile.calendar
        for widget in (*self._edits, *self.rest):
            widget.blockSignals(True)
        self.periods.setText(periods_text(spec.periods))
        for box, day in zip(self.rest, WEEKDAYS, strict=True):
            box.setChecked(day in spec.rest_days)
        self.country.setText(spec.holidays.country if spec.holidays else "")
        self.subdivision.setText((spec.holidays.subdivision or "") if spec.holidays else "")
        self.extra.setText(dates_text(spec.extra_holidays))
        self.make_up.setText(dates_text(spec.make_up_workdays))
        self.worked.setText(dates_text(spec.not_holidays))
        for widget in (*self._edits, *self.rest):
            widget.blockSignals(False)
        self.refresh()

    def _edited(self, *_args) -> None:
        spec = self.profile.calendar
        spec.periods = periods_from_text(self.periods.text())
        spec.rest_days = [d for box, d in zip(self.rest, WEEKDAYS, strict=True) if box.isChecked()]  # type: ignore[misc]
        country = self.country.text().strip().upper()
        subdivision = self.subdivision.text().strip().upper() or None
        spec.holidays = HolidaySource(country, subdivision) if country else None
        spec.extra_holidays = dates_from_text(self.extra.text())
        spec.make_up_workdays = dates_from_text(self.make_up.text())
        spec.not_holidays = dates_from_text(self.worked.text())
        self.refresh()
        self.changed.emit()

    def problem(self) -> CityDeskError | None:
        """What the profile's validator says of the calendar as it stands (None: fine)."""
        try:
            check_calendar(self.profile.calendar)
        except CityDeskError as exc:
            return exc
        return None

    def refresh(self) -> None:
        """The year's holidays and make-up days under the settings, or what is wrong."""
        self.days.setRowCount(0)
        problem = self.problem()
        if problem is not None:
            self.summary.setText(problem.message)
            self.summary.setStyleSheet(ERROR_STYLE)
            return
        cal = calendar_from_profile(self.profile)
        year = self.year.value()
        names = weekday_names(width="abbreviated")
        for day in notable_days(cal, year):
            row = self.days.rowCount()
            self.days.insertRow(row)
            self.days.setItem(row, 0, QTableWidgetItem(day.day.isoformat()))
            self.days.setItem(row, 1, QTableWidgetItem(names[day.day.weekday()]))
            self.days.setItem(row, 2, QTableWidgetItem(day.label()))
        count, hours = working_time(cal, year)
        text = tr("{year}: {days} working days, {hours:,.0f} working hours.").format(
            year=year, days=count, hours=hours
        )
        if self.profile.calendar.holidays is None:
            text += " " + tr("No public holidays: give the country's code to count them.")
        self.summary.setText(text)
        self.summary.setStyleSheet("")
