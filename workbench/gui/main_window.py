"""The main window: canvas in the centre, layer tree dock, status bar, menus, recent files."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QPointF, QSettings, QSize, Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QAction,
    QActionGroup,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from citydesk.layers.crs import crs_label
from citydesk.layers.errors import CityDeskError, NeedsReadOptions, use_front_end
from citydesk.layers.io import archive_data_sets, data_set_path, read_layer
from citydesk.layers.layer import VectorLayer
from citydesk.layers.mapplot import export_map
from citydesk.layers.placement import placement_warning, settle_missing_crs
from citydesk.layers.project import Project, bounds_in
from citydesk.layers.project_store import load_project, save_project
from citydesk.layers.readers.vector import data_layer_names
from citydesk.layers.selection import Selection, ids_at_point, ids_in_geometry
from citydesk.layers.validation import validate_layer
from citydesk.layers.version import __version__
from citydesk.workbench import analysis_jobs, analysis_process

from . import gc_pauses
from .attribute_table import AttributeTable
from .i18n import N_, tr
from .icons import icon
from .identify_panel import IdentifyPanel
from .layer_tree import LayerTreeWidget
from .legend import LegendWidget
from .log_panel import LogPanel
from .map_canvas import MapCanvas
from .shared_layers_actions import SharedLayerActions
from .tasks import MessageBar, TaskManager

MAX_RECENT = 8

#: what Project > Add layer offers (a ZIP is read as the data set inside it)
DATA_FILE_PATTERNS = (
    "*.gpkg *.shp *.geojson *.json *.fgb *.kml *.kmz *.parquet *.csv *.xlsx *.xls *.ods *.tab "
    "*.mif *.dxf "
    # a file of an Esri File Geodatabase (gdb, *.gdbtable) stands for its folder
    "*.tif *.tiff *.dem *.zip gdb *.gdbtable"
)


def _current_lang() -> str:
    from citydesk.layers.i18n import current_language

    return current_language()


log = logging.getLogger(__name__)

#: a selection with more features than this not yet converted to Qt shapes is highlighted
#: once a worker has converted them (13k parcels took 0.1 s on the GUI thread)
_HIGHLIGHT_IN_BACKGROUND = 2000


class MainWindow(QMainWindow):
    highlight_ready = pyqtSignal(int, object)  # (selection generation, Qt shapes)

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        use_front_end("gui")  # errors advise the window's menus, not command-line flags
        self.settings = settings or QSettings("CityDesk", "CityDesk")
        self.project: Project | None = None
        self._saved_state = ""  # project_state() at the last open or save
        self.setWindowTitle("CityDesk")
        self.canvas = MapCanvas(self)
        self.canvas.render_finished.connect(gc_pauses.settle)
        self.message_bar = MessageBar(self)
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.message_bar)
        column.addWidget(self.canvas, 1)
        self.setCentralWidget(central)
        self.setAcceptDrops(True)  # data files and projects dropped from a file manager

        self.tasks = TaskManager(self)
        self.tasks.error.connect(self.message_bar.show_message)
        task_dock = QDockWidget(tr("Tasks"), self)
        task_dock.setObjectName("tasks_dock")
        task_dock.setWidget(self.tasks)
        self.addDockWidget(Qt.BottomDockWidgetArea, task_dock)
        self.tasks_dock = task_dock
        self.tasks.active_changed.connect(lambda n: task_dock.setVisible(n > 0))
        task_dock.hide()

        self.layer_tree = LayerTreeWidget(self)
        dock = QDockWidget(tr("Layers"), self)
        dock.setObjectName("layers_dock")
        dock.setWidget(self.layer_tree)
        self.addDockWidget(Qt.LeftDockWidgetArea, dock)
        self.layers_dock = dock

        self.legend = LegendWidget(self)
        legend_dock = QDockWidget(tr("Legend"), self)
        legend_dock.setObjectName("legend_dock")
        legend_dock.setWidget(self.legend)
        self.addDockWidget(Qt.LeftDockWidgetArea, legend_dock)
        self.legend_dock = legend_dock

        self.coord_label = QLabel()
        self.scale_label = QLabel()
        self.crs_label = QLabel()
        for w in (self.coord_label, self.scale_label, self.crs_label):
            self.statusBar().addPermanentWidget(w)
        self.canvas.coordinates_changed.connect(self._show_coordinates)
        self.canvas.scale_changed.connect(
            lambda s: self.scale_label.setText(tr("Scale 1:{n}").format(n=f"{s:,.0f}"))
        )
        self.canvas.layer_failed.connect(self._layer_failed)
        self.layer_tree.visibility_changed.connect(self._tree_changed)
        self.layer_tree.order_changed.connect(self._tree_changed)
        self.layer_tree.zoom_to_layer.connect(self._zoom_to_layer)
        self.layer_tree.remove_layer.connect(self._remove_layer)
        self.shared = SharedLayerActions(self)
        self.layer_tree.publish_layer.connect(self.shared.publish_dialog)
        self.layer_tree.reload_layer.connect(self.shared.reload)
        self.layer_tree.retry_layer.connect(self.shared.retry)
        self.layer_tree.forget_layer.connect(self.shared.remove_unavailable)
        self.selection = Selection()
        self.selection.subscribe(self._selection_changed)
        self._highlight_generation = 0
        self._highlighter = ThreadPoolExecutor(1, thread_name_prefix="citydesk-highlight")
        self.highlight_ready.connect(self._show_highlight)
        self.identify_panel = IdentifyPanel(self)
        self.identify_panel.edit_requested.connect(self.shared.edit_feature)
        identify_dock = QDockWidget(tr("Identify results"), self)
        identify_dock.setObjectName("identify_dock")
        identify_dock.setWidget(self.identify_panel)
        self.addDockWidget(Qt.RightDockWidgetArea, identify_dock)
        identify_dock.hide()
        self.identify_dock = identify_dock
        self.log_panel = LogPanel(self)
        log_dock = QDockWidget(tr("Log"), self)
        log_dock.setObjectName("log_dock")
        log_dock.setWidget(self.log_panel)
        self.addDockWidget(Qt.BottomDockWidgetArea, log_dock)
        log_dock.hide()
        self.log_dock = log_dock
        self.tables: dict[str, QDockWidget] = {}
        self.desk_panel = None  # the dispatch desk, once opened (workbench/gui/desk)
        self.desk_dock: QDockWidget | None = None
        self.card_dock: QDockWidget | None = None
        self.canvas.clicked.connect(self._map_clicked)
        self.canvas.tapped.connect(self._map_tapped)
        self.canvas.area_drawn.connect(self._area_drawn)
        self.canvas.measured.connect(self._show_measure)
        self._build_menus()
        self._build_tools()
        self._restore_layout()

    # --- menus -----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(tr("&Project"))
        self.action_open = QAction(
            tr("&Open project..."), self, shortcut="Ctrl+O", triggered=self.open_project_dialog
        )
        self.action_add = QAction(
            tr("&Add layer..."), self, shortcut="Ctrl+L", triggered=self.add_layer_dialog
        )
        self.action_add_options = QAction(
            tr("Add layer with &options..."), self, triggered=self.add_layer_with_options_dialog
        )
        self.action_save = QAction(
            tr("&Save"), self, shortcut="Ctrl+S", triggered=self.save_project
        )
        self.action_export = QAction(
            tr("Export map (PDF/PNG)..."), self, shortcut="Ctrl+P", triggered=self.export_map_dialog
        )
        self.action_new = QAction(
            tr("&New project"), self, shortcut="Ctrl+N", triggered=self.new_project
        )
        self.action_save_as = QAction(
            tr("Save &as..."),
            self,
            triggered=self.save_project_as,  # Ctrl+Shift+S is Style
        )
        self.action_close_project = QAction(
            tr("&Close project"), self, shortcut="Ctrl+W", triggered=self.close_project
        )
        self.action_city = QAction(
            tr("City &setup (layers, fields, readiness)..."), self, triggered=self.city_setup
        )
        self.action_add_shared = QAction(
            tr("Add s&hared layer (PostGIS)..."), self, triggered=lambda: self.shared.add_dialog()
        )
        self.recent_menu = file_menu.addMenu(tr("Recent projects"))
        for action in (
            self.action_new,
            self.action_open,
            self.action_add,
            self.action_add_options,
            self.action_add_shared,
            self.action_save,
            self.action_save_as,
            self.action_close_project,
            self.action_export,
            self.action_city,
        ):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(QAction(tr("&Quit"), self, shortcut="Ctrl+Q", triggered=self.close))
        view_menu = self.menuBar().addMenu(tr("&View"))
        self.action_full = QAction(
            tr("Zoom to full extent"),
            self,
            shortcut="Ctrl+Shift+F",
            triggered=self.canvas.zoom_full,
        )
        view_menu.addAction(self.action_full)
        view_menu.addAction(self.layers_dock.toggleViewAction())
        view_menu.addAction(self.log_dock.toggleViewAction())
        desk_menu = self.menuBar().addMenu(tr("&Dispatch"))
        self.action_desk = QAction(
            tr("Open the dispatch desk"), self, shortcut="Ctrl+D", triggered=self.open_desk
        )
        self.action_demo_cases = QAction(
            tr("Replay the project's incident history through the desk"),
            self,
            triggered=self.load_demo_cases,
        )
        self.action_import_cases = QAction(
            tr("Import cases (CSV or Open311)..."), self, triggered=self.import_cases_dialog
        )
        self.action_export_cases = QAction(
            tr("Export cases (Excel, CSV, GeoPackage or Open311)..."),
            self,
            triggered=self.export_cases_dialog,
        )
        self.action_export_history = QAction(
            tr("Export case histories (every step, Excel or CSV)..."),
            self,
            triggered=self.export_history_dialog,
        )
        self.action_case_store = QAction(
            tr("Case store (project file or PostGIS)..."),
            self,
            triggered=self.case_store_dialog,
        )
        desk_menu.addAction(self.action_desk)
        desk_menu.addAction(self.action_demo_cases)
        desk_menu.addAction(self.action_import_cases)
        desk_menu.addAction(self.action_export_cases)
        desk_menu.addAction(self.action_export_history)
        desk_menu.addAction(self.action_case_store)
        plan_menu = self.menuBar().addMenu(tr("&Optimize"))
        self.action_siting = QAction(
            tr("Site more fire stations over the case history..."),
            self,
            triggered=self.site_stations_dialog,
        )
        plan_menu.addAction(self.action_siting)
        self.action_front = QAction(
            tr("Land-use Pareto front..."), self, triggered=self.landuse_front_dialog
        )
        plan_menu.addAction(self.action_front)
        planning_menu = self.menuBar().addMenu(tr("P&lanning"))
        self.action_planning = QAction(tr("Planning scenarios"), self, triggered=self.open_planning)
        planning_menu.addAction(self.action_planning)
        from .plugins.plugin_actions import PluginActions

        self.plugin_actions = PluginActions(self)  # Processing and Plugins menus
        help_menu = self.menuBar().addMenu(tr("&Help"))
        help_menu.addAction(QAction(tr("About CityDesk"), self, triggered=self._about))
        self._buttons(
            self._toolbar(tr("Map"), "map_toolbar"),
            (self.action_open, "open"),
            (self.action_add, "add_layer"),
            (self.action_save, "save"),
            (self.action_full, "full_extent"),
        )
        self._update_recent_menu()

    def _toolbar(self, title: str, name: str):
        """An icon toolbar (text in the tooltip, with the shortcut): the text-only one hid
        half its actions behind a chevron at 1280 px (issue 20)."""
        toolbar = self.addToolBar(title)
        toolbar.setObjectName(name)
        toolbar.setToolButtonStyle(Qt.ToolButtonIconOnly)
        toolbar.setIconSize(QSize(22, 22))
        return toolbar

    def _buttons(self, toolbar, *actions: tuple[QAction, str]) -> None:
        """Put ``actions`` on ``toolbar`` as icon buttons (``(action, icon name)``)."""
        for action, name in actions:
            action.setIcon(icon(name))
            self._tip(action)
            toolbar.addAction(action)

    @staticmethod
    def _tip(action: QAction) -> None:
        """The tooltip of an icon button: its words, and the key that does the same."""
        text = action.text().replace("&", "").rstrip(".").rstrip("…")
        key = action.shortcut().toString()
        action.setToolTip(f"{text} ({key})" if key else text)

    def _build_tools(self) -> None:
        toolbar = self._toolbar(tr("Tools"), "tools_toolbar")
        group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for tool, label, key in (
            ("pan", tr("Pan"), "P"),
            ("zoom_box", tr("Zoom to box"), "Z"),
            ("identify", tr("Identify"), "I"),
            ("select", tr("Select (click or box; Shift adds)"), "S"),
            ("select_polygon", tr("Select by polygon"), ""),
            ("measure", tr("Measure"), "M"),
        ):
            action = QAction(icon(tool), label, self, checkable=True)
            if key:
                action.setShortcut(key)
            self._tip(action)
            action.triggered.connect(lambda _c=False, t=tool: self.canvas.set_tool(t))
            group.addAction(action)
            toolbar.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions["pan"].setChecked(True)
        toolbar.addSeparator()
        self.action_table = QAction(
            tr("Open attribute table"),
            self,
            shortcut="F6",
            triggered=lambda: self.open_attribute_table(),
        )
        self.action_zoom_selection = QAction(
            tr("Zoom to selection"), self, triggered=self.zoom_to_selection
        )
        self.action_clear = QAction(
            tr("Clear selection"), self, triggered=lambda: self.selection.clear()
        )
        self.action_style = QAction(
            tr("Style layer..."),
            self,
            shortcut="Ctrl+Shift+S",
            triggered=lambda: self.style_dialog(),
        )
        self._buttons(
            toolbar,
            (self.action_zoom_selection, "zoom_selection"),
            (self.action_style, "style"),
            (self.action_table, "table"),
            (self.action_clear, "clear_selection"),
        )

    # --- selection, identify, measure ------------------------------------------------------
    def chosen_layer(self) -> VectorLayer | None:
        """The vector layer the user selected in the layer tree, if any."""
        if self.project is None:
            return None
        item = self.layer_tree.currentItem()
        if item is not None and item.data(0, Qt.UserRole + 1) == "layer":
            layer = self.project.layers.get(item.data(0, Qt.UserRole))
            if isinstance(layer, VectorLayer):
                return layer
        return None

    def active_layer(self) -> VectorLayer | None:
        """The layer selected in the layer tree, else the topmost visible vector layer."""
        if self.project is None:
            return None
        chosen = self.chosen_layer()
        if chosen is not None:
            return chosen
        for layer_id in self.project.layer_order():
            layer = self.project.layers[layer_id]
            if isinstance(layer, VectorLayer) and self.project.is_visible(layer_id):
                return layer
        return None

    def set_active_layer(self, layer_id: str) -> None:
        item = self.layer_tree.layer_item(layer_id)
        if item is not None:
            self.layer_tree.setCurrentItem(item)

    def _map_clicked(self, x: float, y: float, shift: bool) -> None:
        if self.desk_panel is not None:
            if self.canvas.tool == "report":
                self.desk_panel.report_at_map(x, y)
                return
            case_id = self.desk_panel.case_at(x, y, self.canvas.pick_tolerance(6))
            if case_id is not None:
                self.desk_panel.open_case(case_id)
                return
        if self.canvas.tool == "identify":
            self.identify_at(x, y)
            return
        layer = self.active_layer()
        if layer is None:
            return
        tolerance = self.canvas.pick_tolerance()
        ids = ids_at_point(self._frame_near(layer, x, y, tolerance), x, y, tolerance)
        self.selection.set(layer.id, ids[:1], mode="add" if shift else "replace")

    def _map_tapped(self, x: float, y: float) -> None:
        """A click with the Pan tool (the default): a case marker under it opens its card,
        as a dispatcher expects; anything else stays a pan."""
        if self.desk_panel is None:
            return
        case_id = self.desk_panel.case_at(x, y, self.canvas.pick_tolerance(6))
        if case_id is not None:
            self.desk_panel.open_case(case_id)

    def identify_at(self, x: float, y: float) -> VectorLayer | None:
        """Identify as QGIS does: in the layer chosen in the tree, else top-down through the
        visible vector layers, stopping at the first with a feature under the click (the
        topmost layer alone answered "Nothing here" on a parcel under a crash layer)."""
        if self.project is None:
            return None
        chosen = self.chosen_layer()
        candidates = (
            [chosen]
            if chosen is not None
            else [
                lay
                for i in self.project.layer_order()
                if isinstance(lay := self.project.layers[i], VectorLayer)
                and self.project.is_visible(i)
            ]
        )
        tolerance = self.canvas.pick_tolerance()
        for layer in candidates:
            frame = self._frame_near(layer, x, y, tolerance)
            ids = ids_at_point(frame, x, y, tolerance)
            if len(ids):
                self.identify_panel.show_features(
                    layer.name,
                    frame.loc[ids[:1]],
                    layer_id=layer.id,
                    editable=getattr(layer, "editable", False),
                )
                self.identify_dock.show()
                self.selection.set(layer.id, ids[:1])
                return layer
        import pandas as pd

        self.identify_panel.show_features("", pd.DataFrame())
        self.identify_dock.show()
        return None

    def _frame_near(self, layer: VectorLayer, x: float, y: float, tolerance: float):
        """The layer's features around a click, in the project CRS."""
        return self._frame_in(layer, (x - tolerance, y - tolerance, x + tolerance, y + tolerance))

    def _frame_in(self, layer: VectorLayer, box: tuple[float, float, float, float]):
        """The layer's features for a spot or area ``box`` (project CRS) to search: a shared
        layer not read whole fetches the box from its database; a layer held as arrays gives
        those whose bounds meet the box; any other gives them all (its spatial index finds
        the box)."""
        if layer.kind == "shared" and not layer.loaded:
            return layer.fetch(box, self.project.crs)
        return layer.features_in(box, self.project.crs)

    def _area_drawn(self, area, shift: bool) -> None:
        layer = self.active_layer()
        if layer is None:
            return
        ids = ids_in_geometry(self._frame_in(layer, tuple(area.bounds)), area)
        self.selection.set(layer.id, ids, mode="add" if shift else "replace")

    def _selection_changed(self, layer_id: str) -> None:
        layer = self.project.layers.get(layer_id) if self.project else None
        if not isinstance(layer, VectorLayer):
            return
        ids = self.selection.ids(layer_id)
        self.statusBar().showMessage(
            tr("{n} features selected in {layer}").format(n=len(ids), layer=layer.name), 5000
        )
        if layer.kind == "shared" and not layer.loaded:
            # a shared layer not read whole: its selected features are fetched by key
            picked = layer.features(list(ids), self.project.crs)
            cache = self.canvas.geometry_of(layer, picked)
            positions = np.arange(len(picked))
        else:
            cache = self.canvas.prepared_geometry(layer)
            positions = layer.columns([]).index.get_indexer(list(ids))  # ids, no values
            positions = positions[positions >= 0]
        self._highlight_generation += 1
        generation = self._highlight_generation
        if cache.kind == "point":
            self.canvas.set_highlight([QPointF(*cache.centers[p]) for p in positions])
            return

        def shapes() -> list:
            cache.ensure(positions)
            return [shape for p in positions for shape in cache.shapes(p)]

        if cache.unconverted(positions) <= _HIGHLIGHT_IN_BACKGROUND:
            self.canvas.set_highlight(shapes())
            return
        # Select all on 13k parcels: converted on a worker (the cache is locked), shown
        # when ready unless a newer selection came first
        future = self._highlighter.submit(shapes)
        future.add_done_callback(
            lambda done: (
                self.highlight_ready.emit(generation, done.result())
                if done.exception() is None
                else log.warning("highlighting the selection failed: %s", done.exception())
            )
        )

    def _show_highlight(self, generation: int, shapes: list) -> None:
        if generation == self._highlight_generation:
            self.canvas.set_highlight(shapes)

    def zoom_to_selection(self) -> None:
        for layer_id in self.project.layer_order() if self.project else []:
            ids = self.selection.ids(layer_id)
            layer = self.project.layers[layer_id]
            if ids and isinstance(layer, VectorLayer):
                frame = layer.in_crs(self.project.crs)
                x0, y0, x1, y1 = frame.loc[frame.index.isin(list(ids))].total_bounds
                pad = max(x1 - x0, y1 - y0, 100.0) * 0.15
                self.canvas.zoom_to_extent((x0 - pad, y0 - pad, x1 + pad, y1 + pad))
                return

    def _show_measure(self, length: float, area: float) -> None:
        text = tr("Length {length} m").format(length=f"{length:,.1f}")
        if area > 0:
            text += " · " + tr("area {area} m²").format(area=f"{area:,.0f}")
        self.statusBar().showMessage(text)
        self.last_measure = (length, area)

    def style_dialog(self, layer_id: str | None = None, run: bool = True):
        """Open the styling dialog; on OK the layer is restyled and redrawn."""
        layer = self.project.layers.get(layer_id) if layer_id else self.active_layer()
        if not isinstance(layer, VectorLayer):
            return None
        # imported when first asked for: its histogram brings matplotlib's Qt backend,
        # 0.25-0.37 s that the window's start-up need not wait for (issue 20)
        from .style_dialog import StyleDialog

        dialog = StyleDialog(layer, self)
        if run and dialog.exec_() == StyleDialog.Accepted:
            self.apply_style(dialog)
        return dialog

    def apply_style(self, dialog) -> None:
        if dialog.apply_to_layer() is not None:
            self.canvas.invalidate_layer(dialog.layer.id)
            self.legend.refresh()

    def open_attribute_table(self, layer_id: str | None = None) -> AttributeTable | None:
        layer = self.project.layers.get(layer_id) if layer_id else self.active_layer()
        if not isinstance(layer, VectorLayer):
            return None
        if layer.kind == "shared" and not layer.loaded:
            # the whole table is read first, in the background; the table opens when read
            self.tasks.start(
                tr("Reading {name}").format(name=layer.name),
                lambda _feedback: len(layer.data),
                on_done=lambda _n: self.open_attribute_table(layer.id),
            )
            return None
        if layer.id in self.tables:
            dock = self.tables[layer.id]
        else:
            dock = QDockWidget(tr("Attributes: {name}").format(name=layer.name), self)
            dock.setObjectName(f"table_{layer.id}")
            dock.setWidget(AttributeTable(layer, self.selection, dock))
            self.addDockWidget(Qt.BottomDockWidgetArea, dock)
            self.tables[layer.id] = dock
        dock.show()
        dock.raise_()
        return dock.widget()

    # --- dispatch desk ---------------------------------------------------------------------
    def open_desk(self, actor: str | None = None, role: str | None = None):
        """Open the dispatch desk on the project's case store (in the background: the road
        network and the geocoder are built from the streets layer)."""
        import getpass

        from citydesk.incidents.desk import open_desk

        if self.project is None or not self.project.path:
            self.show_error(tr("Open or save a project first: its cases live in its file."))
            return None
        actor = actor or str(self.settings.value("desk/actor", getpass.getuser()))
        role = role or str(self.settings.value("desk/role", "dispatcher"))
        path, lang = self.project.path, _current_lang()

        def work(_feedback):
            desk = open_desk(path, actor, role, lang=lang)
            _ = desk.network  # the road graph is built here, not on the first dispatch
            desk.store.close()  # the worker's connection; the GUI thread opens its own
            return desk

        return self.tasks.start(tr("Opening the dispatch desk"), work, on_done=self._show_desk)

    def _show_desk(self, desk) -> None:
        from .desk.case_card import CaseCardWidget
        from .desk.desk_panel import DeskPanel

        desk.store = desk.store.reopen()
        self.close_desk()
        self.desk_panel = DeskPanel(desk, self)
        self.case_card = CaseCardWidget(desk, self)
        self.desk_panel.case_opened.connect(self._open_card)
        self.desk_panel.role_changed.connect(self._desk_role_changed)
        self.case_card.changed.connect(lambda _id: self.desk_panel.refresh())
        self.case_card.route_planned.connect(self.desk_panel.show_route)
        self.desk_dock = QDockWidget(tr("Dispatch desk"), self)
        self.desk_dock.setObjectName("desk_dock")
        self.desk_dock.setWidget(self.desk_panel)
        self.card_dock = QDockWidget(tr("Case"), self)
        self.card_dock.setObjectName("case_card_dock")
        self.card_dock.setWidget(self.case_card)
        self.dock_right(self.desk_dock)
        self.addDockWidget(Qt.RightDockWidgetArea, self.card_dock)
        self.desk_dock.show()
        self.card_dock.hide()

    #: the large panels on the right: a second one becomes a tab of the first instead of
    #: stacking below it (stacked, their minimum heights pushed the window past the screen)
    WORK_DOCKS = ("desk_dock", "planning_dock", "front_dock")

    def dock_right(self, dock: QDockWidget) -> None:
        self.addDockWidget(Qt.RightDockWidgetArea, dock)
        for name in self.WORK_DOCKS:
            other = getattr(self, name, None)
            if other is not None and other is not dock and other.isVisible():
                self.tabifyDockWidget(other, dock)
                break
        dock.show()
        dock.raise_()

    def _open_card(self, case_id: str) -> None:
        self.case_card.show_case(case_id)
        self.card_dock.show()
        self.card_dock.raise_()

    def _desk_role_changed(self) -> None:
        desk = self.desk_panel.desk
        self.settings.setValue("desk/actor", desk.actor)
        self.settings.setValue("desk/role", desk.role.value)
        if self.case_card.card is not None:
            self.case_card.show_case(self.case_card.card.case.case_id)

    def close_desk(self) -> None:
        if self.desk_panel is None:
            return
        self.desk_panel.timer.stop()
        self.desk_panel.desk.store.close()
        for dock in (self.desk_dock, self.card_dock):
            self.removeDockWidget(dock)
            dock.deleteLater()
        self.desk_panel = self.desk_dock = self.card_dock = None
        self.canvas.set_markers([])
        self.canvas.set_marked(None)
        self.canvas.set_route(None)

    def import_cases_dialog(self):
        from .desk.case_import_dialog import CaseImportDialog

        if self.project is None or not self.project.path:
            self.show_error(tr("Save the project first: the cases are kept with it."))
            return None
        dialog = CaseImportDialog(self)
        dialog.accepted.connect(lambda: self.import_cases(*dialog.choice()))
        self.case_import_dialog = dialog
        dialog.open()
        return dialog

    def import_cases(self, path: str, mapping: str | None = None):
        """Import a case file into the project's store in the background (one transaction,
        an upsert); the outcome is the window's notice and the desk shows the cases."""
        project = str(self.project.path) if self.project is not None else ""

        def work(_feedback):
            from citydesk.incidents.case_files import import_case_file, import_summary

            return import_summary(import_case_file(project, path, mapping))

        def done(lines: list[str]) -> None:
            self.last_import = lines
            if mapping and Path(mapping).suffix.lower() == ".toml":
                self.remember_mapping(mapping)  # next week's export goes through it again
            self.message_bar.show_done("\n".join(lines), None)  # one line each
            self.statusBar().showMessage(lines[0], 15000)
            if self.desk_panel is not None:
                self.desk_panel.refresh()

        return self.tasks.start(tr("Importing {name}").format(name=Path(path).name), work, done)

    def export_cases_dialog(self):
        """Dispatch > Export cases: every case of the project, or those the desk shows,
        reporters' personal data masked (the command line's --include-personal-data is the
        deliberate way round)."""
        kinds = [N_("Excel workbook (*.xlsx)"), N_("CSV (*.csv)"), N_("GeoPackage (*.gpkg)")]
        kinds += [N_("Open311 JSON (*.json)"), N_("Open311 XML (*.xml)")]
        return self._export_dialog(tr("Export cases"), "cases.xlsx", kinds)

    def export_history_dialog(self):
        """Dispatch > Export case histories: every step of the cases (who took it, in which
        role, when): the audit trail, which a case row holds only the last step times of."""
        kinds = [N_("Excel workbook (*.xlsx)"), N_("CSV (*.csv)")]
        return self._export_dialog(
            tr("Export case histories"), "case_history.xlsx", kinds, history=True
        )

    def _export_dialog(self, title: str, name: str, kinds: list[str], history: bool = False):
        """Which cases (:meth:`_export_scope`), then where (:meth:`_case_export_path`), then
        the export in the background; None when the user cancels either question."""
        scope = self._export_scope(title)
        if scope is False:
            return None
        path = self._case_export_path(title, name, kinds)
        return self.export_cases(path, history=history, case_ids=scope) if path else None

    def _export_scope(self, title: str) -> list[str] | bool | None:
        """Which cases an export takes: None for every case, the ids the desk shows when its
        filters hide some and the user picks those, False when the user cancels. A clerk who
        filtered the desk to one department's open cases expects those in the file; the
        question makes the choice visible, because a silent "all" or "shown" each surprises
        someone."""
        panel = self.desk_panel
        frame = getattr(panel, "frame", None) if panel is not None else None
        if frame is None:
            return None
        total = panel.desk.store.count()
        if len(frame) >= total:
            return None
        answer = self.ask_export_scope(title, len(frame), total)
        if answer == "cancel":
            return False
        return list(frame["case_id"]) if answer == "shown" else None

    def ask_export_scope(self, title: str, shown: int, total: int) -> str:
        """'shown', 'all' or 'cancel' (see :meth:`_export_scope`)."""
        box = QMessageBox(
            QMessageBox.Question,
            title,
            tr("The dispatch desk shows {shown} of the project's {total} cases.").format(
                shown=shown, total=total
            ),
            parent=self,
        )
        box.setInformativeText(tr("Export only the cases shown, or every case?"))
        shown_button = box.addButton(tr("Cases shown: {n}").format(n=shown), QMessageBox.AcceptRole)
        all_button = box.addButton(tr("All cases: {n}").format(n=total), QMessageBox.AcceptRole)
        box.addButton(QMessageBox.Cancel)
        box.setDefaultButton(shown_button)
        box.exec_()
        clicked = box.clickedButton()
        return "shown" if clicked is shown_button else "all" if clicked is all_button else "cancel"

    def _case_export_path(self, title: str, name: str, kinds: list[str]) -> str:
        """The file a case export goes to, asked for; empty when there is no project file
        (its cases live in it) or the user cancels."""
        if self.project is None or not self.project.path:
            self.show_error(tr("Open or save a project first: its cases live in its file."))
            return ""
        path, _chosen = QFileDialog.getSaveFileName(
            self, title, name, ";;".join(tr(kind) for kind in kinds)
        )
        return path

    def export_cases(self, path: str, history: bool = False, case_ids: list[str] | None = None):
        """Write the project's cases (``case_ids``: those only; ``history``: their steps) to
        ``path`` in the background (format by extension)."""
        project = str(self.project.path) if self.project is not None else ""
        lang = _current_lang()

        def work(_feedback):
            from citydesk.incidents.export import export_cases
            from citydesk.incidents.stores import open_project_store
            from citydesk.layers.city_profile import project_csv_dialect

            with open_project_store(project) as store:
                dialect = project_csv_dialect(project)  # what Excel in the city splits on
                return export_cases(
                    store, path, lang=lang, dialect=dialect, history=history, case_ids=case_ids
                )

        done = (
            tr("Case histories exported to {path}") if history else tr("Cases exported to {path}")
        )
        return self.tasks.start(
            tr("Exporting cases to {name}").format(name=Path(path).name),
            work,
            lambda written: self.announce_written(written, done.format(path=written)),
        )

    def city_setup(self):
        """Project > City setup: the city profile's roles and fields, and readiness."""
        from .city_setup_dialog import CitySetupDialog

        if self.project is None or not self.project.path:
            self.show_error(tr("Save the project first: the city profile is stored in it."))
            return None
        dialog = CitySetupDialog(self)
        dialog.show()
        return dialog

    def case_store_dialog(self):
        """Where the project's cases live (Dispatch > Case store)."""
        from .desk.case_store_dialog import CaseStoreDialog

        if self.project is None or not self.project.path:
            self.show_error(tr("Open or save a project first: its cases live in its file."))
            return None
        dialog = CaseStoreDialog(self)
        dialog.show()
        return dialog

    def load_demo_cases(self):
        """Give the demo project its unit grid and crews and replay the incident history
        through the desk, ending now with the last days' cases still open in every state
        (a few seconds), then reopen the project and the desk."""
        from citydesk.incidents.demo_desk import load_demo_history
        from citydesk.incidents.replay import ReplaySpec

        if self.project is None or not self.project.path:
            return None
        from citydesk.layers.city_profile import parse_profile

        text = self.project.metadata.get("city_profile")
        try:
            history = parse_profile(text).layers.incidents if text else None
        except CityDeskError:
            history = None
        if history is None:
            self.show_error(
                tr(
                    "This project names no incident history to replay ([layers.incidents] in "
                    "the city profile)."
                )
            )
            return None
        self.close_desk()
        path = self.project.path

        def done(_result) -> None:
            task = self.open_project(path)
            task.signals.finished.connect(lambda _p: self.open_desk(), Qt.QueuedConnection)

        return self.tasks.start(
            tr("Replaying the incident history"),
            lambda feedback: load_demo_history(
                path, ReplaySpec(live_days=3, until=dt.datetime.now(dt.UTC)), feedback=feedback
            ),
            on_done=done,
        )

    def _ask_spec(self, dialog_class):
        """Show an optimization dialog for a saved project; its spec, or None if canceled."""
        if self.project is None or not self.project.path:
            return None
        dialog = dialog_class(self)
        # remembered per dialog and project (a filter names this project's fields), the
        # project by its resolved path: opened by another relative path it is the same one
        where = str(Path(self.project.path).resolve())
        project = hashlib.sha1(where.encode()).hexdigest()[:12]
        group = f"optimize/{dialog_class.__name__}/{project}"
        dialog.restore_inputs(self.settings, group)
        if dialog.exec_() != dialog_class.Accepted:
            return None
        dialog.save_inputs(self.settings, group)
        return dialog.spec()

    def site_stations_dialog(self):
        from .optimize.siting_dialog import SitingDialog

        spec = self._ask_spec(SitingDialog)
        return self.site_stations(spec) if spec else None

    def _analyse_project(self, title: str, analysis, show):
        """Run ``analysis(path, feedback=...)`` (a job of ``citydesk.workbench.analysis_jobs``,
        its other arguments bound by keyword) in an analysis process on the saved project, which
        writes its result layers into the file (one transaction; a desk open on the same file
        keeps working); then the results join the project in memory, beside the user's
        unsaved changes, and ``show(result)``."""
        if self.project is None or not self.project.path:
            return None
        path = self.project.path
        started = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        job = partial(analysis_jobs.with_layers_written, job=analysis, since=started)

        def work(feedback):
            # in a process of its own, with the reading of its result layers: from a thread,
            # its imports and parsing held the interpreter lock long enough to freeze the
            # window (issue 20)
            return analysis_process.shared().run(job, path, feedback=feedback)

        def done(outcome) -> None:
            result, written = outcome
            self.join_results(path, started, written)
            show(result)

        return self.tasks.start(title, work, on_done=done)

    def join_results(self, path: str, since: str, written=None) -> list[str]:
        """Add the layers analyses wrote into ``path`` since ``since`` (``written``, when
        already read) to the open project (replacing earlier versions of the same results),
        keep everything else the user has in memory, and redraw. Returns the ids joined."""
        from citydesk.layers.project_store import layers_written_since

        if self.project is None or self.project.path != path:
            return []
        if written is None:
            written = layers_written_since(path, since)
        joined = [self._put_layer(layer, group) for layer, group in written.layers]
        self.project.metadata.update(written.metadata)
        self._layers_changed()
        return joined

    def show_result_layer(self, layer, group: str | None = None) -> str:
        """Put a result made in memory (the desk's forecast) into the open project, in place
        of an earlier version of it, and redraw."""
        if self.project is None:
            self.set_project(Project(layer.name))
        layer_id = self._put_layer(layer, group)
        self._layers_changed()
        return layer_id

    def _put_layer(self, layer, group: str | None) -> str:
        if layer.id in self.project.layers:
            self.project.remove_layer(layer.id)
        new_group = bool(group) and not any(
            getattr(n, "name", None) == group for n in self.project.root.children
        )
        self.project.add_layer(layer, group=group)
        if new_group:  # a result group goes on top of the map, where the user looks
            node = self.project.group(group)
            self.project.root.children.remove(node)
            self.project.root.children.insert(0, node)
        return layer.id

    def _layers_changed(self) -> None:
        self.layer_tree.set_project(self.project)
        self.legend.set_project(self.project)
        self.canvas.schedule_refresh()

    def site_stations(self, spec):
        """Add fire stations for the project's case history; the result layers join the
        project, and the before/after times go to the status bar."""

        def show(result) -> None:
            self.last_siting = result
            self.statusBar().showMessage("  ".join(result.summary()))

        return self._analyse_project(
            tr("Siting fire stations"), partial(analysis_jobs.site_stations, spec=spec), show
        )

    def landuse_front_dialog(self):
        from .optimize.front_dialog import FrontDialog

        spec = self._ask_spec(FrontDialog)
        return self.landuse_front(spec) if spec else None

    def landuse_front(self, spec):
        """Compute the front; the plans join the project as one layer and the front opens in
        a dock with its chart and table (replacing an earlier front's)."""
        from citydesk.layers.city_layers import MissingData, require_layer
        from citydesk.layers.city_profile import parse_profile

        if self.project is not None:
            text = self.project.metadata.get("city_profile")
            try:
                layers = parse_profile(text).layers if text else None
                require_layer(layers, "parcels", tr("The land-use front"))
            except (MissingData, CityDeskError) as exc:
                self.show_error(exc.message)
                return None

        def show(run) -> None:
            from .optimize.front_view import FrontView  # the front's modules are loaded now

            self.last_front = run
            if getattr(self, "front_dock", None) is None:
                self.front_dock = QDockWidget(tr("Pareto front"), self)
                self.front_dock.setObjectName("front_dock")
                self.dock_right(self.front_dock)
            old = self.front_dock.widget()
            self.front_dock.setWidget(FrontView(run))
            if old is not None:
                old.deleteLater()
            self.front_dock.show()

        return self._analyse_project(
            tr("Computing the land-use Pareto front"),
            partial(analysis_jobs.landuse_front, spec=spec),
            show,
        )

    def open_planning(self):
        """The planning dock for the saved project (scenarios, run, compare, report)."""
        from .planning.planning_panel import PlanningPanel

        if self.project is None or not self.project.path:
            self.show_error(tr("Save the project first: scenarios are kept inside it."))
            return None
        if getattr(self, "planning_dock", None) is None:
            self.planning_dock = QDockWidget(tr("Planning scenarios"), self)
            self.planning_dock.setObjectName("planning_dock")
            self.dock_right(self.planning_dock)
        panel = self.planning_dock.widget()
        if panel is None or panel.path != self.project.path:
            panel = PlanningPanel(
                self.project.path,
                self._analyse_project,
                self.show_error,
                start_task=lambda title, fn, done: self.tasks.start(title, fn, on_done=done),
                plugin_host=self.plugin_actions.host,  # discovered once, at start-up
            )
            old = self.planning_dock.widget()
            self.planning_dock.setWidget(panel)
            if old is not None:
                old.deleteLater()
        else:
            panel.refresh()  # the project file may have new scenarios, results or fronts
        self.planning_dock.show()
        self.planning_dock.raise_()
        return panel

    # --- project ---------------------------------------------------------------------------
    # --- unsaved changes -------------------------------------------------------------------
    def is_modified(self) -> bool:
        """Whether the project has changes a save would write (styles, layers, results)."""
        from citydesk.layers.project_store import project_state

        if self.project is None:
            return False
        if not self.project.path and not self.project.layers:
            return False  # a new, empty project: nothing to lose
        return project_state(self.project) != self._saved_state

    def ask_unsaved(self) -> str:
        """'save', 'discard' or 'cancel': what to do with unsaved changes."""
        answer = QMessageBox.question(
            self,
            tr("Unsaved changes"),
            tr("The project {name} has unsaved changes. Save them first?").format(
                name=self.project.name if self.project else ""
            ),
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            QMessageBox.Save,
        )
        return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")

    def confirm_leaving_project(self) -> bool:
        """True when the open project may be left: nothing unsaved, or the user saved it
        (here and now) or chose to discard the changes."""
        if not self.is_modified():
            return True
        choice = self.ask_unsaved()
        if choice == "cancel":
            return False
        if choice == "save":
            from citydesk.layers.project_store import save_project

            path = self.project.path or self._ask_save_path()
            if not path:
                return False
            try:
                save_project(self.project, path)
            except CityDeskError as exc:
                self.show_error(exc.message)
                return False
            self._mark_saved()
        return True

    def _mark_saved(self) -> None:
        from citydesk.layers.project_store import project_state

        self._saved_state = project_state(self.project) if self.project is not None else ""

    def _ask_save_path(self) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self, tr("Save project"), "", tr("CityDesk projects (*.gpkg)")
        )
        return path

    def new_project(self) -> None:
        if self.confirm_leaving_project():
            self.set_project(Project(tr("Untitled")))

    def close_project(self) -> None:
        """Close the project (asking about unsaved changes); the window stays, empty."""
        self.new_project()

    def save_project_as(self):
        if self.project is None:
            return None
        path = self._ask_save_path()
        if not path:
            return None
        return self.save_project(path)

    def set_project(self, project: Project) -> None:
        gc_pauses.release()  # the previous project's objects may be collected now
        self.close_desk()
        for dock in self.tables.values():
            dock.close()
            dock.deleteLater()
        self.tables = {}
        self.selection = Selection()
        self.selection.subscribe(self._selection_changed)
        self.canvas.set_highlight([])
        self.project = project
        self.setWindowTitle(f"CityDesk — {project.name}")
        self.crs_label.setText(crs_label(project.crs))
        self.layer_tree.set_project(project)
        self.legend.set_project(project)
        self.canvas.set_project(project)
        self._mark_saved()
        if project.path:
            self._remember(project.path)
        if project.unreadable:
            self.message_bar.show_message(
                tr("Some layers cannot be read and are left out: {ids}").format(
                    ids=", ".join(project.unreadable)
                ),
                tr("These layers are left out; the rest of the project is open:")
                + "\n\n"
                + "\n".join(f"{lid}: {why}" for lid, why in project.unreadable.items()),
            )

    def open_project(self, path: str):
        """Load a project in the background; the window stays responsive meanwhile."""
        return self.tasks.start(
            tr("Opening {name}").format(name=Path(path).name),
            lambda feedback: load_project(path, feedback=feedback),
            on_done=self.set_project,
        )

    def open_project_dialog(self) -> None:
        if not self.confirm_leaving_project():
            return
        path, _ = QFileDialog.getOpenFileName(
            self, tr("Open project"), "", tr("CityDesk projects (*.gpkg)")
        )
        if path:
            self.open_project(path)

    def _ask_data_file(self) -> str:
        path, _ = QFileDialog.getOpenFileName(
            self,
            tr("Add layer"),
            "",
            tr("GIS data ({patterns})").format(patterns=DATA_FILE_PATTERNS),
        )
        return path

    def add_layer_with_options_dialog(self) -> None:
        path = self._ask_data_file()
        if path:
            self.ask_layer_options(path)

    def ask_layer_options(
        self, path: str, problem: str = "", focus: tuple[str, ...] = (), layer: str | None = None
    ):
        """The layer-options dialog (encoding, coordinate columns, CRS), shown without
        blocking; OK adds the layer with those options."""
        from .layer_options_dialog import LayerOptionsDialog

        dialog = LayerOptionsDialog(path, problem, focus, self, layer)
        dialog.accepted.connect(lambda: self.add_layer(path, layer, dialog.options()))
        self.layer_options_dialog = dialog
        dialog.open()
        return dialog

    def add_layer_dialog(self) -> None:
        path = self._ask_data_file()
        if path:
            self.add_layer_asking(path)

    def add_layer_asking(self, path: str) -> None:
        """Add a file as a layer, first asking which one when it holds several (the layers
        of a GeoPackage or of a CAD drawing, the data sets of a ZIP)."""
        layer = None
        path = str(data_set_path(path))
        if path.lower().endswith((".gpkg", ".sqlite", ".zip", ".gdb", ".dxf")):
            try:
                names = (
                    archive_data_sets(path)
                    if path.lower().endswith(".zip")
                    else data_layer_names(path)
                )
            except CityDeskError as exc:
                self.show_error(exc.message)
                return
            if len(names) > 1:
                layer, ok = QInputDialog.getItem(
                    self,
                    tr("Add layer"),
                    tr("Layer in {file}").format(file=Path(path).name),
                    names,
                    0,
                    False,
                )
                if not ok:
                    return
        self.add_layer(path, layer)

    def add_layer(self, path: str, layer: str | None = None, options: dict | None = None):
        """Read and check a data file in the background, then add it on the GUI thread.
        ``options`` are :func:`read_layer`'s keywords (encoding, coordinate columns, CRS);
        a file that cannot be read without them opens the layer-options dialog."""
        if self.project is None:
            self.set_project(Project(Path(path).stem))
        index = len(self.project.layers)

        def work(feedback):
            try:
                new = read_layer(
                    path, layer, style_index=index, feedback=feedback, **(options or {})
                )
            except NeedsReadOptions as exc:
                return exc, None  # answered on the GUI thread, with the options dialog
            report = None
            if isinstance(new, VectorLayer):
                report = validate_layer(new, path=path)
            return new, report

        def done(result) -> None:
            new, report = result
            if isinstance(new, NeedsReadOptions):
                self.show_error(new.message)
                self.ask_layer_options(path, new.message, new.options, layer)
                return
            labelled = settle_missing_crs(
                self.project,
                new,
                tr("add it again with the CRS it was made in, in {place}").format(
                    place=tr("Project > Add layer with options...")
                ),
            )
            if labelled and report is not None and new.crs is not None:
                report.issues = [i for i in report.issues if i.code != "missing_crs"]
            away = placement_warning(self.project, new)
            self.project.add_layer(new)
            self.layer_tree.set_project(self.project)
            self.legend.set_project(self.project)  # the legend follows the layers
            self.canvas.schedule_refresh()
            if report is not None and report.issues:
                worst = [i for i in report.issues if i.severity != "info"]
                if worst:
                    self.message_bar.show_message(
                        tr("{name}: data problems found ({n}); see Details").format(
                            name=new.name, n=len(worst)
                        ),
                        report.to_text(),
                    )
            said = "\n".join(line for line in (labelled, away) if line)
            if said:
                self.message_bar.show_message(said, said)

        return self.tasks.start(tr("Adding {name}").format(name=Path(path).name), work, done)

    def save_project(self, path: str | None = None):
        """Save in the background (to ``path``: Save as); the project then counts as saved."""
        if self.project is None:
            return None
        path = path or self.project.path or self._ask_save_path()
        if not path:
            return None
        project = self.project
        return self.tasks.start(
            tr("Saving {name}").format(name=Path(path).name),
            lambda feedback: save_project(project, path, feedback=feedback),
            on_done=lambda saved: self._saved(saved),
        )

    def _saved(self, path) -> None:
        self._mark_saved()
        self.setWindowTitle(f"CityDesk — {self.project.name}" if self.project else "CityDesk")
        self.statusBar().showMessage(tr("Saved {path}").format(path=path), 4000)
        self._remember(str(path))

    def export_map_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, tr("Export map"), "map.pdf", "PDF (*.pdf);;PNG (*.png)"
        )
        if not path:
            return
        dpi, ok = QInputDialog.getInt(self, tr("Export map"), tr("Resolution (DPI)"), 200, 72, 1200)
        if ok:
            self.export_map(path, dpi)

    def export_map(self, path: str, dpi: int = 200):
        """Export the current view with title, legend, scale bar, north arrow and credits."""
        project, extent = self.project, self.canvas.current_view().extent
        return self.tasks.start(
            tr("Exporting {name}").format(name=Path(path).name),
            lambda feedback: export_map(project, path, dpi=dpi, extent=extent),
            on_done=lambda p: self.announce_written(p, tr("Map exported to {path}").format(path=p)),
        )

    def _tree_changed(self) -> None:
        self.canvas.schedule_refresh()
        self.legend.refresh()

    def _zoom_to_layer(self, layer_id: str) -> None:
        layer = self.project.layers[layer_id]
        self.canvas.zoom_to_extent(bounds_in(layer.extent, layer.crs, self.project.crs))

    def _remove_layer(self, layer_id: str) -> None:
        self.project.remove_layer(layer_id)
        self.layer_tree.set_project(self.project)
        self.legend.refresh()  # the legend follows the layers
        self.canvas.invalidate_layer(layer_id)

    # --- status and messages ---------------------------------------------------------------
    def _show_coordinates(self, x: float, y: float) -> None:
        self.coord_label.setText(f"{x:,.2f}, {y:,.2f}")

    def _layer_failed(self, layer_id: str, message: str) -> None:
        self.show_error(tr("Layer {id} could not be drawn: {msg}").format(id=layer_id, msg=message))

    def show_error(self, message: str, details: str = "") -> None:
        self.statusBar().showMessage(message, 10000)
        self.message_bar.show_message(message, details)

    def announce_written(self, path, message: str | None = None) -> None:
        """The one "done" notice for every file or report the workbench writes: a green
        bar with the path and a button to open its folder, and the status bar line."""
        text = message or tr("Written: {path}").format(path=path)
        self.statusBar().showMessage(text, 15000)
        self.message_bar.show_done(text, path)

    def _about(self) -> None:
        QMessageBox.about(
            self,
            tr("About CityDesk"),
            tr("CityDesk {v}: a desktop GIS workbench for city governments.").format(v=__version__),
        )

    # --- settings --------------------------------------------------------------------------
    def _remember(self, path: str) -> None:
        recent = [p for p in self.recent_projects() if p != path]
        self.settings.setValue("recent_projects", [path, *recent][:MAX_RECENT])
        self._update_recent_menu()

    def remember_mapping(self, path: str) -> None:
        """A column mapping file the import used, first in the import dialog's list."""
        recent = [p for p in self.recent_mappings() if p != path]
        self.settings.setValue("import/recent_mappings", [path, *recent][:MAX_RECENT])

    def recent_mappings(self) -> list[str]:
        """Mapping files used before that still exist, latest first."""
        value = self.settings.value("import/recent_mappings", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or [] if Path(str(v)).exists()]

    def recent_projects(self) -> list[str]:
        value = self.settings.value("recent_projects", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or []]

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_projects():
            self.recent_menu.addAction(
                path, lambda p=path: self.confirm_leaving_project() and self.open_project(p)
            )

    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        if state is not None:
            self.restoreState(state)

    # --- files dropped on the window (from a file manager, as into QGIS) ------------------
    def dragEnterEvent(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        event.acceptProposedAction()
        self.open_dropped(paths)

    def open_dropped(self, paths: list[str]) -> None:
        """A CityDesk project opens (asking first about unsaved changes); every other file
        is added as a layer, each in the background as Add layer does (asking which one of a
        file that holds several)."""
        from citydesk.layers.readers.vector import is_citydesk_file

        projects = [p for p in paths if p.lower().endswith(".gpkg") and is_citydesk_file(p)]
        if projects:
            if self.confirm_leaving_project():
                self.open_project(projects[0])
            return
        for path in paths:
            self.add_layer_asking(path)

    def closeEvent(self, event) -> None:
        if not self.confirm_leaving_project():
            event.ignore()
            return
        self.tasks.abandon()
        self.close_desk()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        super().closeEvent(event)
