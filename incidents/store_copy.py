"""Copying a whole case store into another, proven exact: migration and logical backup.

``citydesk cases migrate --to postgis`` moves a project's GeoPackage cases into PostGIS;
a PostGIS backup is the same copy the other way, into a GeoPackage that QGIS opens. Either
way every case, event and crew is copied in one transaction on each side, and the copy's
counts and checksum (:class:`citydesk.incidents.case_store.StoreSummary`, over every column) are
compared with the source's *before* the target commits: a copy that differs is never kept.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from citydesk.layers.errors import CityDeskError
from citydesk.layers.feedback import Feedback, NullFeedback, check_canceled
from citydesk.layers.i18n import _

from .case_store import _BULK, _CASE_COLUMNS, _EVENT_COLUMNS, CaseStore, StoreSummary

_CREW_COLUMNS = ("crew_id", "name", "department", "lon", "lat", "available")
_CHUNK = 50_000


class CopyError(CityDeskError):
    """A store cannot be copied, or the copy does not match."""


def _chunks(rows, names) -> Iterator[dict[str, list]]:
    batch: list = []
    for row in rows:
        batch.append(row)
        if len(batch) == _CHUNK:
            yield {n: [r[n] for r in batch] for n in names}
            batch = []
    if batch:
        yield {n: [r[n] for r in batch] for n in names}


def _for_target(target: CaseStore, table: str, columns: dict[str, list]) -> dict[str, list]:
    """What the target's table needs beyond the columns both backends share: the
    GeoPackage's point blobs (PostGIS derives its point), booleans for crews' availability
    and a case's given due time (SQLite keeps 0/1)."""
    if table == "cases":
        columns = {**columns, "due_given": [bool(v) for v in columns["due_given"]]}
        lon = np.array(columns["lon"], dtype=float)  # None -> NaN
        lat = np.array(columns["lat"], dtype=float)
        geometry = target._geometry(lon, lat)
        if geometry is not None:
            return {"geom": geometry, **columns}
    if table == "crews":
        return {**columns, "available": [bool(v) for v in columns["available"]]}
    return columns


def copy_store(
    source: CaseStore, target: CaseStore, feedback: Feedback | None = None
) -> StoreSummary:
    """Copy everything in ``source`` into the empty ``target``; returns the verified summary.
    Desks should be closed on ``source`` (its transaction holds them off meanwhile)."""
    feedback = feedback or NullFeedback()
    already = target.count()
    if already:
        raise CopyError(
            _("the target store already holds {n} cases").format(n=already),
            _("Copy into an empty store (a new database schema or a new file)."),
        )
    total = max(1, source.count())
    with source.transaction() as scon, target.transaction() as tcon:
        expected = source._summary(scon)
        # (table, columns, the share of the progress bar it ends at); db_user is the audit
        # column of the events, outside the checksum
        tables = (
            ("cases", _CASE_COLUMNS, 60.0),
            ("case_events", (*_EVENT_COLUMNS, "db_user"), 80.0),
            ("crews", _CREW_COLUMNS, 90.0),
        )
        copied = 0
        for table, names, share in tables:
            rows = source._stream(scon, f"SELECT {', '.join(names)} FROM {table}")
            for columns in _chunks(rows, names):
                check_canceled(feedback)
                target._write(tcon, _for_target(target, table, columns), table)
                if table == "cases":  # the long part
                    copied += len(columns["case_id"])
                    feedback.set_progress(share * copied / total)
            feedback.set_progress(share)
        got = target._summary(tcon)
        if got != expected:
            raise CopyError(  # raising here rolls the target back: nothing is kept
                _(
                    "the copy does not match its source ({cases} cases and {events} events "
                    "copied; {want_cases} and {want_events} in the source)"
                ).format(
                    cases=got.cases,
                    events=got.events,
                    want_cases=expected.cases,
                    want_events=expected.events,
                ),
                _("Nothing was kept. Report this as a bug, with the two stores."),
            )
    if got.cases >= _BULK:
        target._after_bulk_insert(got.cases)
    feedback.set_progress(100.0)
    return got
