"""The case card: details, photos, the full history as a timeline, the time left, and a
button for each action the signed-in role may take (and only those)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QPixmap
from PyQt5.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from citydesk.incidents.desk import CaseCard, DispatchDesk, source_summary
from citydesk.incidents.lifecycle import RoleError, TransitionError
from citydesk.incidents.lifecycle_words import ACTION_VERBS, action_name, role_name, state_name
from citydesk.incidents.store import VersionConflict
from citydesk.layers.errors import CityDeskError

from ..i18n import N_, tr, trc

LEVEL_STYLE = {
    "ok": "background:#c8e6c9",
    "amber": "background:#ffe082",
    "red": "background:#ef9a9a",
}


class CaseCardWidget(QWidget):
    """Shows one case. ``ask_note``, ``ask_hours`` and ``confirm`` are the questions it
    asks the user; tests replace them instead of clicking through modal dialogs."""

    changed = pyqtSignal(str)  # a case id, after an action landed
    route_planned = pyqtSignal(object)  # a shapely line in EPSG:4326, or None

    def __init__(self, desk: DispatchDesk, parent=None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.card: CaseCard | None = None
        self.ask_note: Callable[[str], str | None] = self._ask_note
        self.confirm: Callable[[str], bool] = self._confirm
        self.ask_hours: Callable[[str], float | None] = self._ask_hours
        self.buttons: dict[str, QPushButton] = {}
        self.title = QLabel(tr("No case selected"))
        self.title.setStyleSheet("font-weight:bold; font-size:14px")
        self.clock = QLabel()
        self.clock.setAlignment(Qt.AlignCenter)
        # the short facts two by two, the long ones across: in a desk's dock the ten rows of
        # one column left the history two lines (a case imported with its source's steps
        # has eight)
        form = QGridLayout()
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)
        self.fields = {}
        for n, (key, label) in enumerate(
            (
                ("category", N_("Category")),
                ("status", N_("Status")),
                ("department", N_("Department")),
                ("crew", N_("Crew")),
                ("grid", N_("Grid cell")),
                ("reporter", N_("Reporter")),
                ("reported", N_("Reported")),
                ("due", N_("Due")),
                ("description", N_("Description")),
                ("source", N_("Source system")),
            )
        ):
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextSelectableByMouse)
            self.fields[key] = value
            across = key in ("description", "source")
            row, column = (n - 4, 0) if across else divmod(n, 2)
            form.addWidget(QLabel(tr(label)), row, 2 * column, Qt.AlignTop)
            form.addWidget(value, row, 2 * column + 1, 1, 3 if across else 1)
        self.photos = QHBoxLayout()
        self.timeline = QTreeWidget()
        self.timeline.setHeaderLabels(
            [
                tr("When"),
                tr("Action"),
                tr("State"),
                tr("Who"),
                trc("staff role", "Role"),
                tr("Note"),
            ]
        )
        self.timeline.setRootIsDecorated(False)
        # room for most of a closed loop (report to close is eight steps) before it scrolls;
        # what the two-column facts above saved, so the dock asks for no more height
        self.timeline.setMinimumHeight(self.timeline.fontMetrics().height() * 8)
        self.action_row = QHBoxLayout()
        column = QVBoxLayout(self)
        column.addWidget(self.title)
        column.addWidget(self.clock)
        column.addLayout(form)
        column.addLayout(self.photos)
        column.addWidget(QLabel(tr("History")))
        column.addWidget(self.timeline, 1)
        column.addLayout(self.action_row)

    # --- showing ---------------------------------------------------------------------------
    def show_case(self, case_id: str) -> None:
        self.card = self.desk.card(case_id)
        c, card = self.card.case, self.card
        self.title.setText(tr("Case {id}").format(id=c.case_id))
        self.fields["category"].setText(card.category_label)
        self.fields["status"].setText(state_name(c.status))
        self.fields["department"].setText(card.department_label)
        self.fields["crew"].setText(c.crew or "-")
        self.fields["grid"].setText(c.grid_code or tr("outside the grid"))
        self.fields["reported"].setText(_when(c.reported_at))
        self.fields["due"].setText(_when(c.due_at))
        self.fields["description"].setText(c.description or "-")
        self.fields["reporter"].setText(c.reporter_name or "-")
        self.fields["source"].setText(source_summary(c) or tr("taken at this desk"))
        if card.hours_left is None:
            status = state_name(c.status)
            self.clock.setText(tr("The clock is not running ({status})").format(status=status))
            self.clock.setStyleSheet("")
        else:
            text = (
                tr("Overdue by {h:.1f} working hours").format(h=-card.hours_left)
                if card.hours_left < 0
                else tr("{h:.1f} working hours left").format(h=card.hours_left)
            )
            if card.extension_requested:  # the shift chief's to answer
                text += " · " + tr("more time asked for")
            if card.urged:  # 督办: the department sees that the centre is waiting
                text += " · " + tr("urged {n}×").format(n=card.urged)
            self.clock.setText(text)
            self.clock.setStyleSheet(LEVEL_STYLE.get(card.level, "") + "; padding:4px")
        self._show_photos(c.photos)
        self.timeline.clear()
        for e in card.history:
            item = QTreeWidgetItem(
                self.timeline,
                [
                    _when(e.at),
                    action_name(e.action),
                    # the desk's words, not the lifecycle's ids ("new → reported" and
                    # "intake_clerk" showed in the zh_CN timeline, issue 20)
                    f"{state_name(e.from_state)} → {state_name(e.to_state)}",
                    e.actor,
                    role_name(e.role),
                    # an extension's or resumption's new due time beside its reason
                    " · ".join(
                        part
                        for part in (
                            e.note,
                            tr("due from then: {at}").format(at=_when(card.due_moves[e.seq]))
                            if e.seq in card.due_moves
                            else "",
                        )
                        if part
                    ),
                ],
            )
            item.setToolTip(5, item.text(5))  # a long note is cut at the dock's edge
        for column in range(self.timeline.columnCount() - 1):  # the note takes the rest
            self.timeline.resizeColumnToContents(column)
        self._show_actions(card.actions)

    def _show_photos(self, photos: list[str]) -> None:
        while self.photos.count():
            self.photos.takeAt(0).widget().deleteLater()
        for path in photos[:4]:
            label = QLabel()
            pixmap = QPixmap(path) if Path(path).is_file() else QPixmap()
            if pixmap.isNull():
                label.setText(tr("photo not found: {name}").format(name=Path(path).name))
            else:
                label.setPixmap(pixmap.scaledToHeight(96, Qt.SmoothTransformation))
            self.photos.addWidget(label)

    def _show_actions(self, actions: list[str]) -> None:
        for button in self.buttons.values():
            self.action_row.removeWidget(button)
            button.deleteLater()
        self.buttons = {}
        for action in actions:
            button = QPushButton(tr(ACTION_VERBS.get(action, action)))
            button.clicked.connect(lambda _c=False, a=action: self.take(a))
            self.action_row.addWidget(button)
            self.buttons[action] = button

    # --- acting ----------------------------------------------------------------------------
    def take(self, action: str) -> bool:
        """Take ``action`` on the shown case; True if it landed."""
        case = self.card.case
        note, hours = "", None
        if action == "extend":  # how much more time first, then why
            hours = self.ask_hours(tr(ACTION_VERBS[action]))
            if hours is None:
                return False
        if self.desk.needs_note(action):
            note = self.ask_note(tr(ACTION_VERBS.get(action, action)))
            if not note:
                return False
        try:
            if action == "dispatch":
                return self._dispatch(case)
            if hours is not None:
                self.desk.extend(case.case_id, hours, case.version, note)
            else:
                self.desk.act(case.case_id, action, case.version, note)
        except VersionConflict as exc:
            self._conflict(exc)
            return False
        except (RoleError, TransitionError, CityDeskError) as exc:
            QMessageBox.warning(self, tr("Not possible"), str(exc))
            return False
        self._landed(case.case_id)
        return True

    def _dispatch(self, case) -> bool:
        plan = self.desk.plan([case.case_id])
        if not plan or plan[0].version != case.version:  # moved since the card was shown
            raise VersionConflict(
                tr("case {id} was changed by someone else").format(id=case.case_id),
                tr("Reload the case and decide again."),
            )
        plan = plan[0]
        self.route_planned.emit(plan.route)
        if plan.manual:
            QMessageBox.information(self, tr("Manual dispatch needed"), plan.reason)
            return False
        minutes = (plan.travel_s or 0) / 60
        question = tr("Send {crew} ({department})? About {m:.1f} min by road.\n{reason}").format(
            crew=plan.crew_name, department=plan.department, m=minutes, reason=plan.reason
        )
        if not self.confirm(question):
            return False
        self.desk.send([plan])
        self._landed(case.case_id)
        return True

    def _landed(self, case_id: str) -> None:
        self.show_case(case_id)
        self.changed.emit(case_id)

    def _conflict(self, exc: VersionConflict) -> None:
        """Someone else moved the case: say so, and show what it is now."""
        if self.confirm(tr("{msg}\n\nReload the case now?").format(msg=exc)):
            self._landed(self.card.case.case_id)

    def _ask_note(self, action_label: str) -> str | None:
        text, ok = QInputDialog.getText(
            self, action_label, tr("Reason (required, kept in the history):")
        )
        return text.strip() if ok else None

    def _ask_hours(self, action_label: str) -> float | None:
        """Working hours to add to the due time; a working day by default."""
        day = self.desk.store.calendar.hours_per_day
        hours, ok = QInputDialog.getDouble(
            self, action_label, tr("More time, in working hours:"), day, 0.5, 2000.0, 1
        )
        return hours if ok else None

    def _confirm(self, question: str) -> bool:
        return QMessageBox.question(self, tr("Dispatch desk"), question) == QMessageBox.Yes


def _when(moment) -> str:
    """Date and time with the city's time-zone abbreviation (EST, CST): desks in other
    zones, and the audit, must not guess which clock a time was read on."""
    if moment is None:
        return "-"
    return f"{moment:%Y-%m-%d %H:%M %Z}".strip()
