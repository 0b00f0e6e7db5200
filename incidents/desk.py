"""The dispatch desk as a Qt-free model: what one signed-in user sees and may do.

The workbench's desk panels are thin views over this class (the napari way: the model knows
nothing of widgets), and the tests drive the same object headless. Every action goes
through the case store, so roles, the append-only history and optimistic locking are
enforced there whatever the view shows; the view only hides what the role may not do.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _
from citydesk.layers.road_network import NetworkSpec, RoadNetwork, build_network

from .case_store import Case, CaseStore, Move
from .categories import split_key
from .deadlines import OPEN_STATES, due_within, time_left
from .dispatch import DispatchPlan, dispatch, plan_dispatch
from .duplicates import DuplicateRule, merge_duplicate, possible_duplicates
from .geocode import AddressPoints, PointFields, RangeFields
from .lifecycle import (
    IMPORT_ACTIONS,
    TRANSITIONS,
    WORKING,
    Event,
    Role,
    actions_now,
    allowed_actions,
    replay,
)
from .new_cases import NewCase
from .routing import RoutingTable, department_names


@dataclass
class CaseFilter:
    """What the case list and the map show. Empty means "any"."""

    status: tuple[str, ...] = OPEN_STATES
    category: str | None = None  # "event:0490"
    department: str | None = None
    grid_prefix: str | None = None  # a street (9 digits) or community (12) or cell (14)
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    due_within_hours: float | None = None  # only overdue or due within this many hours
    #: only cases whose department asked for more time and waits for the answer (延期申请)
    extension_requested: bool = False
    #: only cases the command centre has urged the department on (督办)
    urged: bool = False


@dataclass
class CaseCard:
    """Everything the case card shows."""

    case: Case
    history: list[Event]
    actions: list[str]  # what the signed-in role may do now
    hours_left: float | None  # working hours; negative when overdue; None when not running
    level: str | None  # ok / amber / red
    department_label: str
    category_label: str
    duplicates: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the due time each step that moved it set (:func:`due_moves`)
    due_moves: dict[int, dt.datetime] = field(default_factory=dict)
    #: the department's request for more time waits for the shift chief's answer
    extension_requested: bool = False
    #: how often the command centre urged the department on the case (督办)
    urged: int = 0


def due_moves(store, case_id: str) -> dict[int, dt.datetime]:
    """{step: the due time it set, in the city's time} for the case's steps that moved its
    due time (an extension, a resumption, a source's update): the step's detail holds it,
    the case row only the last. What ``cases show`` and the case card print under a step."""
    steps = store.events_frame(columns=["seq", "detail"], case_ids=[case_id])
    out = {}
    for seq, detail in zip(steps["seq"], steps["detail"], strict=True):
        due = json.loads(detail or "{}").get("due_at") if isinstance(detail, str) else None
        if due:
            out[int(seq)] = pd.Timestamp(due).tz_convert(store.calendar.tz).to_pydatetime()
    return out


def source_summary(case: Case) -> str | None:
    """What the city's own system says of an imported case, in one line: its id there,
    its status word, the channel and when it last changed it. None for a case CityDesk
    took itself. Shown on the desk's card and by ``cases show``, so a clerk can quote the
    source's own reference and status to a caller."""
    parts = []
    if case.source_id:
        parts.append(_("{source} #{id}").format(source=case.source, id=case.source_id))
    if case.source_status:
        parts.append(_("status there: {status}").format(status=case.source_status))
    if case.channel:
        parts.append(_("came in by {channel}").format(channel=case.channel))
    if case.source_updated_at is not None:
        parts.append(
            _("updated there {when}").format(when=f"{case.source_updated_at:%Y-%m-%d %H:%M}")
        )
    if case.due_given:
        parts.append(_("due time set by the source"))
    return " · ".join(parts) or None


class DispatchDesk:
    """One user at the desk: ``actor`` (a user name) acting as ``role``."""

    def __init__(
        self,
        store: CaseStore,
        actor: str,
        role: Role | str,
        streets: gpd.GeoDataFrame | None = None,
        routing: RoutingTable | None = None,
        duplicate_rule: DuplicateRule | None = None,
        lang: str = "en",
        network_spec: NetworkSpec | None = None,
        address_fields: RangeFields | None = None,
        address_points: Callable[[], AddressPoints | None] | None = None,
    ) -> None:
        self.store = store
        self.address_fields = address_fields  # the profile's house-number range columns
        # reads the city's address points when an address is first looked up (a city's
        # register can hold hundreds of thousands: not read for a desk that never asks)
        self.address_points = address_points
        self.network_spec = network_spec  # the city profile's street columns
        self.actor = actor
        self.role = Role(role)
        self.streets = streets
        self.routing = routing or RoutingTable.load(None)
        self.duplicate_rule = duplicate_rule or DuplicateRule()
        self.lang = lang
        self.grid: gpd.GeoDataFrame | None = None  # the project's unit grid, if any
        self.credits = ""  # the city's data credits, printed on its reports

    # --- who -------------------------------------------------------------------------------
    def sign_in(self, actor: str, role: Role | str) -> None:
        if not actor.strip():
            raise CityDeskError(_("a user name is needed"), _("Type your user name."))
        self.actor, self.role = actor.strip(), Role(role)

    @cached_property
    def network(self) -> RoadNetwork | None:
        """Built on first use (a third of a second for Cambridge), then kept."""
        if self.streets is None:
            return None
        return build_network(self.streets, self.network_spec)

    @cached_property
    def geocoder(self):
        """The city's address points and its streets' house-number ranges, whichever it has
        (points first: they are exact)."""
        from .geocode import ChainedGeocoder, Geocoder

        ranges = (
            Geocoder(self.streets, self.address_fields)
            if self.streets is not None and self.address_fields is not None
            else None
        )
        points = self.address_points() if self.address_points is not None else None
        if ranges is None and points is None:
            raise CityDeskError(
                _("the city profile maps no address points and no house-number ranges"),
                _(
                    "Map [layers.addresses] (street, number) or the ranges under "
                    "[layers.streets] (name, left_from, left_to, right_from, right_to) in the "
                    "city profile, or click the place on the map."
                ),
            )
        return ChainedGeocoder(points, ranges)

    # --- reading ---------------------------------------------------------------------------
    def cases(self, filt: CaseFilter | None = None, now: dt.datetime | None = None):
        """The filtered cases with their time left (``hours_left``, ``level``; empty for
        cases whose clock is not running), most urgent first."""
        filt = filt or CaseFilter()
        kind, code = split_key(filt.category) if filt.category else (None, None)
        table = self.store.query(
            status=list(filt.status) if filt.status else None,
            department=filt.department,
            category_code=code,
            grid_prefix=filt.grid_prefix,
            since=filt.since,
            until=filt.until,
            kind=kind,
        )
        if filt.extension_requested:
            table = table[table["case_id"].isin(self.store.extension_requests())]
        if filt.urged:
            table = table[table["case_id"].isin(self.store.cases_with_action("urge"))]
        names = department_names(self.lang)
        table = table.assign(
            category=self._category_labels(table),
            department_name=[names.get(d, d) for d in table.get("department", [])],
        )
        clocks = time_left(table, self.store.calendar, now)
        if filt.due_within_hours is not None:
            return due_within(clocks, filt.due_within_hours)
        rest = table[~table["case_id"].isin(clocks["case_id"])]
        return pd.concat([clocks, rest], ignore_index=True) if len(rest) else clocks

    def _category_labels(self, table: pd.DataFrame) -> list[str]:
        """Each case's category as the desk's staff read it ("E0490 占道经营" in Chinese),
        looked up once per distinct category; an unknown code stays as it is."""
        labels: dict[tuple, str] = {}
        keys = zip(
            table.get("kind", pd.Series(dtype=object)),
            table.get("category_code", pd.Series(dtype=object)),
            table.get("category_standard", pd.Series([None] * len(table), dtype=object)),
            strict=False,
        )
        out = []
        for key in keys:
            if key not in labels:
                try:
                    category = self.store.catalogue.stored(key[0], key[1], key[2])
                    labels[key] = category.label(self.lang)
                except CityDeskError:  # not even a kind (a damaged row)
                    labels[key] = str(key[1])
            out.append(labels[key])
        return out

    def due_soon(self, hours: float, now: dt.datetime | None = None) -> pd.DataFrame:
        return self.cases(CaseFilter(due_within_hours=hours), now)

    def card(self, case_id: str, now: dt.datetime | None = None) -> CaseCard:
        case = self.store.get(case_id)
        clock = time_left(self.store.query_ids([case_id]), self.store.calendar, now)
        left = clock.iloc[0] if len(clock) else None
        category = self.store.catalogue.stored(
            case.kind, case.category_code, case.category_standard
        )
        history = self.store.history(case_id)
        state = replay(history)
        return CaseCard(
            case,
            history,
            # what a person may do here; the import's own steps are the import's
            [a for a in actions_now(state, self.role) if a not in IMPORT_ACTIONS],
            None if left is None else float(left["hours_left"]),
            None if left is None else str(left["level"]),
            department_names(self.lang).get(case.department, case.department),
            category.label(self.lang),
            due_moves=due_moves(self.store, case_id),
            extension_requested=state.extension_requested,
            urged=state.urged,
        )

    def may(self, action: str, case: Case) -> bool:
        return action in allowed_actions(case.status, self.role)

    @staticmethod
    def needs_note(action: str) -> bool:
        return TRANSITIONS[action].needs_note

    # --- intake ----------------------------------------------------------------------------
    def locate(self, address: str):
        return self.geocoder.geocode(address)

    def duplicates_of(self, new: NewCase, exclude: str | None = None) -> pd.DataFrame:
        """Open cases that may be the same problem, before the new one is registered."""
        at = new.reported_at or dt.datetime.now(dt.UTC)
        return possible_duplicates(
            self.store,
            new.kind,
            new.category_code,
            new.lon,
            new.lat,
            at,
            self.duplicate_rule,
            exclude=exclude,
        )

    def report(self, new: NewCase) -> Case:
        return self.store.report(new, self.actor, self.role, at=new.reported_at)

    def merge(self, duplicate: Case, original_id: str) -> Case:
        return merge_duplicate(
            self.store, duplicate.case_id, original_id, self.actor, self.role, duplicate.version
        )

    # --- acting ----------------------------------------------------------------------------
    def act(
        self,
        case_id: str,
        action: str,
        version: int,
        note: str = "",
        at: dt.datetime | None = None,
    ) -> Case:
        """Take ``action`` as the signed-in user. The store refuses a role that may not, a
        missing reason, and a case someone else changed since ``version`` was read."""
        return self.store.transition(case_id, action, self.actor, self.role, version, note, at)

    def extend(
        self, case_id: str, hours: float, version: int, note: str, at: dt.datetime | None = None
    ) -> Case:
        """Give the case ``hours`` more working hours (延期), as the signed-in user."""
        return self.store.extend(case_id, hours, self.actor, self.role, version, note, at)

    def urge(self, case_ids: list[str], note: str, at: dt.datetime | None = None) -> list[str]:
        """Urge the departments on these cases (督办) in one transaction, as the signed-in
        user, with one note for all: the morning round over the overdue list. Cases no
        longer with a department (handled, closed meanwhile) are left out; the ones urged
        are returned. The store refuses a role that may not and a missing reason."""
        rows = self.store.query_ids(case_ids)
        working = {s.value for s in WORKING}
        rows = rows[rows["status"].isin(working)]
        moves = [
            Move(case_id, "urge", int(version), note)
            for case_id, version in zip(rows["case_id"], rows["version"], strict=True)
        ]
        if moves:
            self.store.transition_many(moves, self.actor, self.role, at)
        return [m.case_id for m in moves]

    def plan(self, case_ids: list[str]) -> list[DispatchPlan]:
        """Who would go to each registered case, by road, and why; or why nobody can."""
        rows = self.store.query_ids(case_ids)
        rows = rows[rows["status"] == "registered"]
        return plan_dispatch(
            rows, self.store.crews(), self.store.catalogue, self.routing, self.network
        )

    def send(
        self, plans: list[DispatchPlan], at: dt.datetime | None = None
    ) -> tuple[list[DispatchPlan], list[DispatchPlan]]:
        """Dispatch the planned cases in one transaction (all or none)."""
        return dispatch(self.store, plans, self.actor, self.role, at)


def open_desk(
    project: str | Path,
    actor: str,
    role: Role | str,
    lang: str = "en",
    streets: str | None = None,
    rules: str | None = None,
):
    """A desk on a project: its case store (with the unit grid), its streets layer (by
    default the city profile's streets role) and the routing ``rules`` (a shipped set such
    as ``cambridge`` or a TOML path; by default the ones the project names in its metadata
    as ``routing_rules``, else the city profile's)."""
    from citydesk.layers.city_layers import MissingData
    from citydesk.layers.city_profile import profile_or_none
    from citydesk.layers.project_store import read_project_meta
    from citydesk.layers.road_network import network_spec

    from .project_grid import read_project_grid
    from .stores import open_project_store

    meta = read_project_meta(project)
    profile = profile_or_none(project)
    streets = streets or (profile.layers.layer_id("streets") if profile is not None else None)
    try:
        address_fields = RangeFields.from_profile(profile)
    except MissingData:
        address_fields = None  # the desk works without; finding an address says why
    ids = {layer.get("id") for layer in meta.get("layers", [])}
    address_points = functools.partial(_address_points, project, profile, ids)
    lines = None
    if streets in ids:
        from citydesk.layers.readers.vector import read_vector

        lines, _facts = read_vector(project, streets)
    grid = read_project_grid(project)
    # the project names its routing rules: a shipped set ("cambridge") or a TOML path
    routing = RoutingTable.load(
        rules
        or meta.get("metadata", {}).get("routing_rules")
        or (profile.routing_rules if profile is not None else None)
        or None
    )
    desk = DispatchDesk(
        open_project_store(project, grid),
        actor,
        role,
        lines,
        routing,
        lang=lang,
        network_spec=network_spec(profile),
        address_fields=address_fields,
        address_points=address_points,
    )
    desk.grid = grid
    from citydesk.layers.city_profile import credits_of

    desk.credits = credits_of(meta.get("metadata"))
    return desk


def _address_points(project, profile, ids: set) -> AddressPoints | None:
    """The city's address points when its profile maps them and the project has the layer."""
    from citydesk.layers.city_layers import MissingData
    from citydesk.layers.readers.vector import read_vector

    layer = profile.layers.layer_id("addresses") if profile is not None else None
    if layer is None or layer not in ids:
        return None
    try:
        fields = PointFields.from_profile(profile)
    except MissingData:
        return None
    points, _facts = read_vector(project, layer)
    return AddressPoints(points, fields)
