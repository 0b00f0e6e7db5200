"""Replay a real incident history through the dispatch desk, for the demo and for training.

The Cambridge crash reports (2010-2014) are real: where and when each crash was reported.
What happened next is not in the open data, so it is *simulated*, reproducibly from a seed,
and said to be so in every report that uses it:

- the older reports are migrated as closed cases with a full simulated history (the
  baseline that hotspots, early warnings and the weekly trend need);
- the last ``live_days`` are replayed live, case by case in report order, through the same
  calls a desk makes: report, duplicate check, accept, register, route and dispatch to the
  nearest free crew by road, start, handle, check (a share fails and is reworked), close.
  A crew is busy from its dispatch until it has handled the case.

The crew's drive comes from the road network; the other durations are drawn from simple
distributions (``ReplaySpec``), documented in docs/DISPATCH.md.

With ``until`` (the desk's "now"), the history is moved so that its last report came in
20 minutes before that moment, nothing after it has
happened yet, and the cases of the last ``backlog_days`` stop part-way round the loop (the
newest the least advanced): a dispatcher opening the demo finds open cases in every state,
some due soon, as on a real morning (issue 20: the demo showed 9,110 closed cases dated 2010-2014).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from citydesk.layers.errors import CityDeskError
from citydesk.layers.feedback import Feedback, NullFeedback, check_canceled
from citydesk.layers.i18n import _
from citydesk.layers.road_network import RoadNetwork

from .dispatch import dispatch, plan_dispatch
from .duplicates import possible_duplicates
from .import_csv import ColumnMapping
from .lifecycle import Role
from .new_cases import HistoryStep, NewCase
from .routing import RoutingTable


@dataclass(frozen=True)
class ReplaySpec:
    live_days: int = 28
    seed: int = 7
    dispatch_mean_min: float = 12.0  # registration -> dispatch (exponential)
    work_min: tuple[float, float] = (20.0, 120.0)  # on site (uniform)
    check_mean_h: float = 3.0  # handled -> inspected (exponential)
    close_mean_h: float = 2.0  # inspected -> closed (exponential)
    check_fail_share: float = 0.08
    until: dt.datetime | None = None  # the history ends at this moment ("now")
    backlog_days: float = 2.0  # with until: these last days stop part-way round the loop


@dataclass
class ReplayResult:
    migrated: int = 0
    live: int = 0
    dispatched: int = 0
    manual: int = 0
    reworked: int = 0
    duplicates_flagged: int = 0
    response_min: list[float] = field(default_factory=list)  # live: dispatch -> on site
    start: pd.Timestamp | None = None  # the live window
    end: pd.Timestamp | None = None


def incident_reports(frame: gpd.GeoDataFrame, mapping: ColumnMapping, tz: str) -> pd.DataFrame:
    """Source id, report moment (in ``tz``), position, description and category of each
    locatable past incident of a layer, in time order, read through a column mapping (the
    same mapping files ``cases import`` reads). Rows without a time or a point are left
    out."""
    from .import_csv import CaseImportError, column_text, parse_dates

    cols = mapping.columns
    wanted = [c for v in cols.values() for c in (v if isinstance(v, list) else [v])]
    missing = [str(c) for c in wanted if c not in frame.columns]
    if missing:
        raise CaseImportError(
            _("the incident layer has no column(s) {cols}").format(cols=", ".join(missing)),
            _("Fix the mapping named by [layers.incidents] in the city profile."),
        )
    when = parse_dates(frame[cols["reported_at"]], mapping.date_formats, mapping.timezone)
    pts = frame.geometry.to_crs(4326)
    description = cols.get("description") or []
    ids = cols.get("source_id")
    out = pd.DataFrame(
        {
            "source_id": (
                frame[ids].astype(str).to_numpy() if ids else frame.index.astype(str).to_numpy()
            ),
            "reported_at": when.dt.tz_convert(tz).to_numpy(),
            "lon": pts.x.to_numpy(),
            "lat": pts.y.to_numpy(),
            "description": column_text(frame, description).to_numpy(),
        }
    )
    out["reported_at"] = pd.to_datetime(out["reported_at"], utc=True).dt.tz_convert(tz)
    ok = out["reported_at"].notna() & np.isfinite(out["lon"]) & np.isfinite(out["lat"])
    out = out[ok].sort_values("reported_at", kind="stable").reset_index(drop=True)
    out.attrs["source"] = mapping.source
    out.attrs["category"] = mapping.default_category or ""
    return out


class _Timing:
    """The simulated durations, one random stream for the whole replay."""

    def __init__(self, spec: ReplaySpec) -> None:
        self.spec = spec
        self.rng = np.random.default_rng(spec.seed)

    def minutes(self, mean: float) -> dt.timedelta:
        return dt.timedelta(minutes=float(self.rng.exponential(mean)))

    def intake(self, reported: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        accepted = reported + dt.timedelta(minutes=float(self.rng.uniform(1, 5)))
        return accepted, accepted + dt.timedelta(minutes=float(self.rng.uniform(2, 10)))

    def dispatch_at(self, registered: dt.datetime) -> dt.datetime:
        return registered + self.minutes(self.spec.dispatch_mean_min)

    def work(self) -> dt.timedelta:
        return dt.timedelta(minutes=float(self.rng.uniform(*self.spec.work_min)))

    def after_handling(self, handled: dt.datetime) -> list[tuple[str, Role, dt.datetime, str]]:
        """The check (maybe failed, then reworked and checked again) and the close."""
        steps = []
        at = handled + self.minutes(self.spec.check_mean_h * 60)
        if self.rng.random() < self.spec.check_fail_share:
            steps.append(("check_fail", Role.INSPECTOR, at, _("debris still on the roadway")))
            at += self.work()
            steps.append(("handle", Role.DEPARTMENT, at, ""))
            at += self.minutes(self.spec.check_mean_h * 60)
        steps.append(("check_pass", Role.INSPECTOR, at, ""))
        steps.append(
            ("close", Role.SHIFT_CHIEF, at + self.minutes(self.spec.close_mean_h * 60), "")
        )
        return steps


_ACTORS = {
    Role.INTAKE: "intake-1",
    Role.SHIFT_CHIEF: "chief-1",
    Role.DISPATCHER: "dispatcher-1",
    Role.INSPECTOR: "inspector-1",
}


def _history_cases(
    reports: pd.DataFrame,
    network: RoadNetwork,
    crews: pd.DataFrame,
    timing: _Timing,
    origin: tuple[str, str, str],
) -> list[NewCase]:
    """Older reports as closed cases with a full simulated history (travel by road)."""
    sources = network.snap_named(crews["crew_id"], crews["lon"], crews["lat"])
    seconds, nearest = network.nearest_to_every_node(sources)
    nodes, access = network.snap(reports["lon"].to_numpy(), reports["lat"].to_numpy())
    names = dict(zip(crews["crew_id"], crews["name"], strict=True))
    cases = []
    for row, node, walk in zip(reports.itertuples(index=False), nodes, access, strict=True):
        crew = nearest.get(int(node))
        travel = seconds[int(node)] + walk if crew is not None else 600.0
        reported = _utc(row.reported_at)
        accepted, registered = timing.intake(reported)
        sent = timing.dispatch_at(registered)
        started = sent + dt.timedelta(seconds=travel)
        handled = started + timing.work()
        crew_actor = names.get(crew, "crew")
        steps = [
            HistoryStep("accept", _ACTORS[Role.INTAKE], Role.INTAKE, accepted),
            HistoryStep("register", _ACTORS[Role.SHIFT_CHIEF], Role.SHIFT_CHIEF, registered),
            HistoryStep("dispatch", _ACTORS[Role.DISPATCHER], Role.DISPATCHER, sent),
            HistoryStep("start", crew_actor, Role.DEPARTMENT, started),
            HistoryStep("handle", crew_actor, Role.DEPARTMENT, handled),
        ]
        for action, role, at, note in timing.after_handling(handled):
            actor = crew_actor if role == Role.DEPARTMENT else _ACTORS[role]
            steps.append(HistoryStep(action, actor, role, at, note))
        cases.append(_crash_case(row, origin, steps))
    return cases


def _utc(moment: pd.Timestamp) -> dt.datetime:
    """Durations are added in UTC: adding a timedelta to a zoned Python datetime moves the
    wall clock, so a crash at 01:50 on the spring-forward night got steps that went back in
    time (the store refuses such a history)."""
    return moment.tz_convert("UTC").to_pydatetime()


def _crash_case(
    row, origin: tuple[str, str, str], history: list[HistoryStep] | None = None
) -> NewCase:
    """A case of one past incident; ``origin`` is (kind, category code, source)."""
    kind, code, source = origin
    return NewCase(
        kind,
        code,
        lon=row.lon,
        lat=row.lat,
        description=row.description,
        source=source,
        source_id=row.source_id,
        reported_at=row.reported_at.to_pydatetime(),
        history=history or [],
    )


def replay_crashes(
    store,
    crashes: gpd.GeoDataFrame,
    mapping: ColumnMapping,
    network: RoadNetwork,
    table: RoutingTable,
    spec: ReplaySpec | None = None,
    feedback: Feedback | None = None,
) -> ReplayResult:
    """Migrate the older crash reports, then replay the last ``live_days`` live through
    the desk. The store must hold the crews (``store.save_crews``)."""
    spec = spec or ReplaySpec()
    feedback = feedback or NullFeedback()
    timing = _Timing(spec)
    reports = incident_reports(crashes, mapping, store.calendar.tz)
    until = _utc_moment(spec.until) if spec.until is not None else None
    if until is not None and len(reports):
        reports["reported_at"] = reports["reported_at"] + _shift_to(
            reports["reported_at"].max(), until
        )
    end = reports["reported_at"].max()
    start = end.normalize() - pd.Timedelta(days=spec.live_days - 1)
    older, live = reports[reports["reported_at"] < start], reports[reports["reported_at"] >= start]
    result = ReplayResult(start=start, end=end + pd.Timedelta(days=1))
    crews = store.crews()
    feedback.push_info(_("migrating {n} older crash reports").format(n=len(older)))
    origin = _origin(reports)
    history = _history_cases(older, network, crews, timing, origin)
    if until is not None:  # nothing after "now" has happened yet
        for case in history:
            case.history = [step for step in case.history if step.at <= until]
    added, _skipped = store.import_batch(history, actor="migration")
    result.migrated = added
    feedback.set_progress(30)
    busy: dict[str, dt.datetime] = {}  # crew -> free again at
    backlog_from = until - dt.timedelta(days=spec.backlog_days) if until is not None else None
    for i, row in enumerate(live.itertuples(index=False)):
        check_canceled(feedback)
        stop = None
        if backlog_from is not None and _utc(row.reported_at) >= backlog_from:
            # the newest case has just been reported, the one before was accepted, ...:
            # the backlog holds every step of the loop, newest the least advanced
            stop = _BACKLOG_STOPS[(len(live) - 1 - i) % len(_BACKLOG_STOPS)]
        _replay_one(store, row, origin, network, table, timing, busy, result, until, stop)
        feedback.set_progress(30 + 70 * (i + 1) / max(len(live), 1))
    for crew, free_at in busy.items():  # the replay is over: back on duty unless still out
        store.set_crew_available(crew, until is None or free_at <= until)
    return result


#: where a backlog case stops: after this action (reported only, accepted, registered and
#: waiting for dispatch, dispatched, on site, handled and waiting for the inspector)
_BACKLOG_STOPS = ("report", "accept", "register", "dispatch", "start", "handle")


def _utc_moment(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("until must carry its time zone")
    return moment.astimezone(dt.UTC)


def _shift_to(last: pd.Timestamp, until: dt.datetime) -> pd.Timedelta:
    """The shift, in whole minutes, that puts the last report 20 minutes before ``until``:
    the desk opens with a case just in, and the newest cases due within hours."""
    gap = pd.Timestamp(until) - pd.Timedelta(minutes=20) - last.tz_convert("UTC")
    return pd.Timedelta(minutes=int(gap // pd.Timedelta(minutes=1)))


def _origin(reports: pd.DataFrame) -> tuple[str, str, str]:
    """(kind, code, source) of the replayed cases: the mapping's default category."""
    from .categories import split_key

    kind, code = split_key(reports.attrs.get("category") or "")
    if kind is None or not code:
        raise CityDeskError(
            _("the incident mapping gives no category for the replayed cases"),
            _('Add [defaults] category = "event:0401" (for example) to the mapping.'),
        )
    return kind, code, str(reports.attrs.get("source") or "replay")


def _replay_one(
    store,
    row,
    origin,
    network,
    table,
    timing: _Timing,
    busy: dict,
    result,
    until: dt.datetime | None = None,
    stop: str | None = None,
) -> None:
    """One report through the desk's own calls. With ``until``, a step after it is not
    taken (the case waits there); ``stop`` ends the case's loop after that action."""
    reported = _utc(row.reported_at)
    case = store.report(_crash_case(row, origin), _ACTORS[Role.INTAKE], Role.INTAKE, at=reported)
    result.live += 1

    def halt(action: str, at: dt.datetime) -> bool:
        return (until is not None and at > until) or stop == action

    near = possible_duplicates(
        store, case.kind, case.category_code, case.lon, case.lat, reported, exclude=case.case_id
    )
    # two crashes at one corner within days are usually two crashes: flagged, not merged
    result.duplicates_flagged += bool(len(near))
    accepted, registered = timing.intake(reported)
    if halt("report", accepted):
        return
    case = store.transition(
        case.case_id, "accept", _ACTORS[Role.INTAKE], Role.INTAKE, case.version, at=accepted
    )
    if halt("accept", registered):
        return
    case = store.transition(
        case.case_id,
        "register",
        _ACTORS[Role.SHIFT_CHIEF],
        Role.SHIFT_CHIEF,
        case.version,
        at=registered,
    )
    sent_at = timing.dispatch_at(registered)
    if halt("register", sent_at):
        return
    for crew, free_at in list(busy.items()):
        if free_at <= sent_at:
            store.set_crew_available(crew, True)
            del busy[crew]
    rows = store.query(status=["registered"])
    plans = plan_dispatch(
        rows[rows["case_id"] == case.case_id], store.crews(), store.catalogue, table, network
    )
    sent, manual = dispatch(store, plans, _ACTORS[Role.DISPATCHER], Role.DISPATCHER, sent_at)
    if manual:  # every crew busy: the case waits in the manual queue, as on a real desk
        result.manual += 1
        return
    plan = sent[0]
    result.dispatched += 1
    result.response_min.append(plan.travel_s / 60 if plan.travel_s else float("nan"))
    started = sent_at + dt.timedelta(seconds=plan.travel_s or 0)
    handled = started + timing.work()
    busy[plan.crew] = handled
    store.set_crew_available(plan.crew, False)
    version = store.get(case.case_id).version
    steps = [("start", Role.DEPARTMENT, started, ""), ("handle", Role.DEPARTMENT, handled, "")]
    steps += timing.after_handling(handled)
    done = "dispatch"
    for action, role, at, note in steps:
        if halt(done, at):
            return
        done = action
        actor = plan.crew_name if role == Role.DEPARTMENT else _ACTORS[role]
        version = store.transition(
            case.case_id, action, actor, role, version, note=note, at=at
        ).version
        result.reworked += action == "check_fail"
