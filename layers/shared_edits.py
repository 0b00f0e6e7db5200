"""Edits to a shared layer: each in one transaction, checked against the version it was
made from.

Two editors who read a feature at version 3 may both change it. The first to save moves it to
version 4 (a trigger raises the version on every update, whatever client makes it); the
second's ``UPDATE ... WHERE citydesk_version = 3`` then changes nothing, and the editor gets
:class:`EditConflict` with the feature as it now is, to redo the change on it or drop it. The
check and the write are one statement, so they cannot interleave with another editor's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import shapely
from psycopg import sql

from .i18n import _
from .shared_db import SharedLayerError, one, qualified
from .shared_layer import SharedLayer
from .shared_table import VERSION_COLUMN, plain


class EditConflict(SharedLayerError):
    """Someone else changed (or deleted) the feature since it was read."""

    def __init__(self, problem: str, fix: str, current: Feature | None) -> None:
        super().__init__(problem, fix)
        self.current = current


@dataclass(frozen=True)
class Feature:
    """One feature as the database has it now."""

    key: Any
    values: dict[str, Any]
    geometry: Any  # shapely geometry in the layer's CRS, or None
    version: int


def _editable(layer: SharedLayer) -> None:
    if not layer.editable:
        raise SharedLayerError(
            _("the shared layer {name} cannot be edited from CityDesk").format(name=layer.name),
            _(
                "Only tables published with CityDesk (citydesk layers publish) carry the "
                "version that keeps two editors from overwriting each other."
            ),
            gui_fix=_(
                "Only tables published with CityDesk (layer menu: Publish to shared "
                "database) carry the version that keeps two editors from overwriting each other."
            ),
        )


def read_feature(layer: SharedLayer, key: Any) -> Feature | None:
    """The feature with this key as it is now (None when it is gone)."""
    table = layer.table
    query = sql.SQL("SELECT {cols}, ST_AsBinary({g}), {v} FROM {t} WHERE {k} = %s").format(
        cols=sql.SQL(", ").join(sql.Identifier(f) for f in table.fields),
        g=sql.Identifier(table.geometry_column),
        v=sql.Identifier(VERSION_COLUMN) if table.versioned else sql.SQL("0"),
        t=qualified(table.schema, table.table),
        k=sql.Identifier(table.key),
    )
    with layer.database.connection() as con:
        row = con.cursor(binary=True).execute(query, (plain(key),)).fetchone()
    if row is None:
        return None
    values = dict(zip(table.fields, row[: len(table.fields)], strict=True))
    blob = row[len(table.fields)]
    geometry = shapely.from_wkb(bytes(blob)) if blob is not None else None
    return Feature(key, values, geometry, int(row[-1]))


def update_feature(
    layer: SharedLayer,
    key: Any,
    version: int,
    values: dict[str, Any] | None = None,
    geometry: Any = None,
) -> Feature:
    """Change ``values`` (field -> value) and/or the ``geometry`` of the feature read at
    ``version``; returns it as saved. Raises :class:`EditConflict` when someone else
    changed or deleted it since."""
    _editable(layer)
    table = layer.table
    values = dict(values or {})
    unknown = sorted(set(values) - set(table.fields) | ({table.key} & set(values)))
    if unknown:
        raise SharedLayerError(
            _("the layer {name} has no field {field} that can be edited").format(
                name=layer.name, field=", ".join(unknown)
            ),
            _("Its fields are: {fields}").format(
                fields=", ".join(f for f in table.fields if f != table.key)
            ),
        )
    for field, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise SharedLayerError(
                _("{value} is not a value {field} can hold").format(value=value, field=field),
                _("Give a finite number, or leave the field empty."),
            )
    sets = [sql.SQL("{} = %s").format(sql.Identifier(f)) for f in values]
    params: list[Any] = list(values.values())
    if geometry is not None:
        sets.append(
            sql.SQL("{} = ST_SetSRID(ST_GeomFromWKB(%s), %s)").format(
                sql.Identifier(table.geometry_column)
            )
        )
        params += [shapely.to_wkb(geometry), table.srid]
    if not sets:
        current = read_feature(layer, key)
        if current is None:
            raise feature_gone(layer, key)
        return current
    query = sql.SQL("UPDATE {t} SET {sets} WHERE {k} = %s AND {v} = %s RETURNING {k}").format(
        t=qualified(table.schema, table.table),
        sets=sql.SQL(", ").join(sets),
        k=sql.Identifier(table.key),
        v=sql.Identifier(VERSION_COLUMN),
    )
    with layer.database.transaction() as con:
        done = con.execute(query, [*params, plain(key), version]).fetchone()
    current = read_feature(layer, key)
    if done is None:
        raise _refused(layer, key, version, current)
    layer.forget()
    assert current is not None
    return current


def _refused(layer: SharedLayer, key: Any, version: int, current: Feature | None) -> EditConflict:
    """Why an edit made at ``version`` changed nothing: the feature is gone, or newer."""
    if current is None:
        return feature_gone(layer, key)
    return EditConflict(
        _(
            "feature {key} of {name} was changed by someone else (version {theirs}, "
            "you edited version {yours}); your change was not saved"
        ).format(key=key, name=layer.name, theirs=current.version, yours=version),
        _("Look at its values now and make your change again on them."),
        current,
    )


def feature_gone(layer: SharedLayer, key: Any) -> EditConflict:
    return EditConflict(
        _("feature {key} of {name} is no longer in the shared table").format(
            key=key, name=layer.name
        ),
        _("Someone deleted it; reload the layer to see the table as it is."),
        None,
    )


def add_feature(layer: SharedLayer, values: dict[str, Any], geometry: Any) -> Feature:
    """A new feature; returns it with the key the database gave it."""
    _editable(layer)
    table = layer.table
    names = [f for f in values if f in table.fields and f != table.key]
    query = sql.SQL("INSERT INTO {t} ({cols}) VALUES ({vals}) RETURNING {k}").format(
        t=qualified(table.schema, table.table),
        cols=sql.SQL(", ").join(sql.Identifier(n) for n in [*names, table.geometry_column]),
        vals=sql.SQL(", ").join(
            [sql.Placeholder()] * len(names) + [sql.SQL("ST_SetSRID(ST_GeomFromWKB(%s), %s)")]
        ),
        k=sql.Identifier(table.key),
    )
    params = [values[n] for n in names] + [shapely.to_wkb(geometry), table.srid]
    with layer.database.transaction() as con:
        key = one(con.execute(query, params))[0]
    layer.forget()
    feature = read_feature(layer, key)
    assert feature is not None
    return feature


def delete_feature(layer: SharedLayer, key: Any, version: int) -> None:
    """Delete the feature read at ``version`` (refused as a conflict if it changed since)."""
    _editable(layer)
    table = layer.table
    query = sql.SQL("DELETE FROM {t} WHERE {k} = %s AND {v} = %s RETURNING {k}").format(
        t=qualified(table.schema, table.table),
        k=sql.Identifier(table.key),
        v=sql.Identifier(VERSION_COLUMN),
    )
    with layer.database.transaction() as con:
        done = con.execute(query, (plain(key), version)).fetchone()
    if done is None:
        raise _refused(layer, key, version, read_feature(layer, key))
    layer.forget()
