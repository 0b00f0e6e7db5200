"""Copying a whole case store into another, proven exact: migration and logical backup.

``citydesk cases migrate --to postgis`` moves a project's GeoPackage cases into PostGIS;
a PostGIS backup is the same copy the other way, into a GeoPackage that QGIS opens. Either
way every case, event and crew is copied in one transaction on each side, and the copy's
counts and checksum (:class:`incidents.case_store.StoreSummary`, over every column) are
compared with the source's *before* the target commits: a copy that differs is never kept.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from layers.errors import CityDeskError
from layers.feedback import Feedback, NullFeedback, check_canceled
from layers.i18n import _

from .case_store import _CASE_COLUMNS, _EVENT_COLUMNS, CaseStore, StoreSummary

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


def copy_store(
    source: CaseStore, target: CaseStore, feedback: Feedback | None = None
) -> StoreSummary:
    """Copy everything in ``source`` into the empty ``target``; returns the verified summary.
    Desks should be closed on ``source`` (its transaction holds them off meanwhile)."""
    feedback = feedback or NullFeedback()
    if target.count():
        raise CopyError(
            _("the target store already holds {n} cases").format(n=target.count()),
            _("Copy into an empty store (a new database schema or a new file)."),
        )
    total = max(1, source.count())
    with source.transaction() as scon, target.transaction() as tcon:
        expected = source._summary(scon)
        done = 0
        cases = source._stream(scon, f"SELECT {', '.join(_CASE_COLUMNS)} FROM cases")
        for columns in _chunks(cases, _CASE_COLUMNS):
            check_canceled(feedback)
            geometry = target._geometry(
                pd.DataFrame({"lon": columns["lon"], "lat": columns["lat"]})
            )
            target._write(
                tcon, {**({"geom": geometry} if geometry is not None else {}), **columns}, "cases"
            )
            done += len(columns["case_id"])
            feedback.set_progress(60.0 * done / total)
        names = (*_EVENT_COLUMNS, "db_user")  # the audit column, outside the checksum
        events = source._stream(scon, f"SELECT {', '.join(names)} FROM case_events")
        for columns in _chunks(events, names):
            check_canceled(feedback)
            target._write(tcon, columns, "case_events")
        feedback.set_progress(80.0)
        crews = source._stream(scon, f"SELECT {', '.join(_CREW_COLUMNS)} FROM crews")
        for columns in _chunks(crews, _CREW_COLUMNS):
            columns["available"] = [bool(v) for v in columns["available"]]
            target._write(tcon, columns, "crews")
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
    if got.cases >= 10_000:
        target._after_bulk_insert()
    feedback.set_progress(100.0)
    return got
