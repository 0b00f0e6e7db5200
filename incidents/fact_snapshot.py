"""A columnar copy of the KPI facts of a large store, refreshed from the history.

Why: the KPIs and the dashboard read one narrow row per registered case
(``CaseStore.case_facts``). At ten million cases that scan alone takes 15-40 s on either
backend, and computing the counts in SQL is no faster (SQLite grouped 1M cases in 2-4 s).
But the history is append-only and every change to a case's row comes with an event, so the
cases changed since a copy was taken are exactly those with events written since; the
store says which (``CaseStore._changed_since``), and the copy re-reads only those rows.

The copy is derived data: it is kept in the user's cache directory (never in the project,
which must not grow by a gigabyte of cache), rebuilt whenever the store cannot vouch for
its mark (another file at the same path, a restored backup, another database), and saved
without pickle: a JSON header and raw numeric arrays, mapped on load.

Texts are kept as integer codes with their categories, so a 10M-row frame is built in a
fraction of a second and comes out as ``pandas.Categorical`` columns.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

#: what the copy holds, by kind (``case_id`` is reduced to a key: ten million ids as text
#: would double its size, and no KPI needs them)
MOMENTS = ("due_at", "registered_at", "dispatched_at", "closed_at")
TEXTS = ("department", "grid_code", "kind", "category_code", "status", "dispatcher")
NUMBERS = {
    "rework_count": np.int32,
    "return_count": np.int32,
    "imported": np.int8,
    "due_given": np.int8,
    "lon": np.float64,
    "lat": np.float64,
}
COLUMNS = ("case_id", *MOMENTS, *TEXTS, *NUMBERS)
_NAT = np.iinfo(np.int64).min
_FORMAT = 2  # bump when the saved layout changes: an older file is then rebuilt
_MAGIC = b"CITYDESK-FACTS\n"
_ALIGN = 64  # each array starts on a 64-byte boundary of the file
#: a refresh re-reads the changed rows while they are fewer than this share of the copy;
#: beyond it one full read is cheaper than an IN over millions of ids
REBUILD_SHARE = 0.2
#: the copy is saved again once this share of it changed since it was last saved
SAVE_SHARE = 0.01


def case_keys(ids) -> np.ndarray:
    """One int64 per case id, equal only for equal ids.

    A CityDesk id is ``YYYYMMDD-`` and 10 hex digits (``new_cases._case_ids``): packed
    losslessly into 57 bits (the date as months and days, then the 40 bits), so keys sort by
    date, and new cases append at the end. Any other id (a store made by another tool) gets
    a 62-bit BLAKE2 hash with bit 62 set; the caller checks keys are distinct, so a
    collision disables the copy instead of merging two cases."""
    import pyarrow as pa

    arr = (
        ids
        if isinstance(ids, pa.Array | pa.ChunkedArray)
        else pa.array(pd.Series(ids).astype("str"))
    )
    if isinstance(arr, pa.ChunkedArray):  # what a frame read from Arrow holds
        arr = arr.combine_chunks()
    arr = arr.cast(pa.string())
    n = len(arr)
    keys = np.zeros(n, np.int64)
    ok = np.zeros(n, bool)
    if n:
        offsets = np.frombuffer(arr.buffers()[1], np.int32)[arr.offset : arr.offset + n + 1]
        data = np.frombuffer(arr.buffers()[2], np.uint8) if arr.buffers()[2] else np.zeros(0)
        ok = np.diff(offsets) == 19
        if arr.null_count:
            ok &= ~arr.is_null().to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(ok)
        if len(rows) == n:  # the usual store: one block of 19-byte ids, no copy
            codes = data[offsets[0] : offsets[0] + 19 * n].reshape(n, 19)
        else:
            codes = data[offsets[rows][:, None] + np.arange(19)]
        keys[rows], ok[rows] = _packed(codes)
    if not ok.all():  # another tool's ids: hashed one by one (rare)
        odd = np.flatnonzero(~ok)
        for i, text in zip(odd, arr.take(pa.array(odd)).to_pylist(), strict=True):
            digest = hashlib.blake2b(str(text).encode(), digest_size=8).digest()
            keys[i] = (int.from_bytes(digest, "big") & ((1 << 62) - 1)) | (1 << 62)
    return keys.astype(np.int64)


def _packed(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(keys, valid) of 19-byte ids as an (n, 19) uint8 matrix: arithmetic on one
    contiguous row per character position (a row-wise version took 5 s for 10M ids)."""
    chars = np.ascontiguousarray(codes.T)
    chars -= np.uint8(ord("0"))  # '0'-'9' -> 0-9; below '0' wraps above 200
    date, hexed = chars[:8], chars[9:]
    letters = (hexed >= 49) & (hexed <= 54)  # 'a'-'f'
    hexed = np.where(letters, hexed - np.uint8(39), hexed)
    ok = (date.max(axis=0) <= 9) & (codes[:, 8] == ord("-"))
    ok &= ((chars[9:] <= 9) | letters).all(axis=0)
    d = date.astype(np.int64)
    year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]
    month = d[4] * 10 + d[5]
    day = d[6] * 10 + d[7]
    ok &= (year >= 1900) & (year < 2250) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    keys = ((year - 1900) * 12 + (month - 1)) * 31 + (day - 1)  # < 2^17
    for j in range(10):
        keys = (keys << 4) | hexed[j].astype(np.int64)
    return keys, ok


@dataclass
class FactSnapshot:
    """The facts as columns, sorted by case key. ``mark`` is the store's word for "up to
    here" (``CaseStore._fact_mark``); ``place`` is the store it belongs to."""

    place: str
    mark: str
    keys: np.ndarray
    moments: dict[str, np.ndarray]  # UTC microseconds, _NAT for none
    codes: dict[str, np.ndarray]  # int32, -1 for none
    categories: dict[str, np.ndarray]  # str
    numbers: dict[str, np.ndarray]
    changed_since_save: int = field(default=0, compare=False)

    def __len__(self) -> int:
        return len(self.keys)

    # --- from and to frames ----------------------------------------------------------------
    @classmethod
    def from_frame(cls, place: str, mark: str, frame: pd.DataFrame) -> FactSnapshot | None:
        """The copy of a facts frame (``COLUMNS``); None if two case ids share a key."""
        return cls.from_tables(place, mark, [table_of(frame)])

    @classmethod
    def from_tables(cls, place: str, mark: str, tables: Iterable[pa.Table]) -> FactSnapshot | None:
        """The copy of the facts arriving as Arrow tables, a part at a time; None if two
        case ids share a key.

        Why parts: the first build at ten million cases read every fact into one pandas
        frame, a Python string per text field, and peaked at 5.4 GB. Here each part is
        reduced to the copy's compact columns as it arrives (texts dictionary-encoded in
        Arrow, no Python object per row), so the build holds the copy itself (~90 bytes a
        case) and one part. ``tables`` carry ``COLUMNS``: moments as timestamps or UTC epoch
        microseconds, texts as strings, numbers as numbers, nulls where missing.
        """
        parts = [_Part.of(table) for table in tables if table.num_rows]
        keys = _joined([p.keys for p in parts], np.int64)
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        if len(keys) > 1 and bool((keys[1:] == keys[:-1]).any()):
            log.warning("two case ids of %s share a key; KPIs read the store directly", place)
            return None
        snap = cls(place, mark, keys, {}, {}, {}, {})
        for col in MOMENTS:  # column by column, each part's array freed once joined
            snap.moments[col] = _joined([p.moments.pop(col) for p in parts], np.int64)[order]
        for col in TEXTS:
            names = np.unique(np.concatenate([p.names[col] for p in parts] or [np.zeros(0, str)]))
            codes = [_recode(p.codes.pop(col), p.names[col], names) for p in parts]
            snap.codes[col] = _joined(codes, np.int32)[order]
            snap.categories[col] = names.astype(str)
        for col, dtype in NUMBERS.items():
            snap.numbers[col] = _joined([p.numbers.pop(col) for p in parts], dtype)[order]
        return snap

    def frame(
        self,
        since: pd.Timestamp | None = None,
        until: pd.Timestamp | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """The facts registered in [since, until) as a frame (in ``columns`` order): moments
        as UTC datetimes, texts as categoricals, what ``CaseStore.case_facts`` returns. The
        whole copy is handed over without copying a column (1.1 s at ten million cases when
        pandas copied and checked each)."""
        reg = self.moments["registered_at"]
        keep = reg != _NAT
        if since is not None:
            keep &= reg >= _micros(pd.Series([since]))[0]
        if until is not None:
            keep &= reg < _micros(pd.Series([until]))[0]
        take = np.flatnonzero(keep) if not keep.all() else slice(None)

        def part(values: np.ndarray) -> np.ndarray:
            """The rows asked for, read-only: a caller writing into the frame gets a copy
            (pandas copies a read-only array before a write), never changes the copy."""
            view = values[take].view()
            view.flags.writeable = False
            return view

        out: dict[str, object] = {}
        for col in MOMENTS:
            out[col] = pd.Series(_utc(part(self.moments[col])), copy=False)
        for col in TEXTS:  # the codes were checked against their names on load
            dtype = pd.CategoricalDtype(self.categories[col])
            out[col] = pd.Categorical.from_codes(part(self.codes[col]), dtype=dtype, validate=False)
        for col in NUMBERS:
            out[col] = part(self.numbers[col])
        order = columns or [c for c in COLUMNS if c != "case_id"]
        return pd.DataFrame({c: out[c] for c in order}, copy=False)

    # --- keeping it current ----------------------------------------------------------------
    def merged(self, mark: str, changed: pd.DataFrame) -> FactSnapshot | None:
        """This copy with ``changed`` (facts rows re-read since the last mark) put in: a
        stored case's row replaced, a new one added in key order."""
        if not len(changed):
            self.mark = mark
            return self
        update = FactSnapshot.from_frame(self.place, mark, changed)
        if update is None:
            return None
        pos = np.searchsorted(self.keys, update.keys)
        pos_ok = np.minimum(pos, max(len(self.keys) - 1, 0))
        found = (
            (pos < len(self.keys)) & (self.keys[pos_ok] == update.keys)
            if len(self)
            else (np.zeros(len(update), bool))
        )
        at = pos[found]
        for col in TEXTS:  # one category list: the old codes stay valid, new names added
            names = np.union1d(self.categories[col], update.categories[col])
            if len(names) != len(self.categories[col]):
                self.codes[col] = _recode(self.codes[col], self.categories[col], names)
                self.categories[col] = names
            update.codes[col] = _recode(update.codes[col], update.categories[col], names)
        for kind in ("moments", "codes", "numbers"):
            mine, theirs = getattr(self, kind), getattr(update, kind)
            for col in mine:  # a new array: a frame handed out earlier keeps what it showed
                mine[col] = mine[col].copy()
                mine[col][at] = theirs[col][found]
        new = ~found
        if new.any():
            where = pos[new]
            self.keys = np.insert(self.keys, where, update.keys[new])
            for kind in ("moments", "codes", "numbers"):
                mine, theirs = getattr(self, kind), getattr(update, kind)
                for col in mine:
                    mine[col] = np.insert(mine[col], where, theirs[col][new])
        self.mark = mark
        self.changed_since_save += len(update)
        return self

    # --- on disk ----------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {"keys": self.keys}
        arrays.update({f"moment.{c}": v for c, v in self.moments.items()})
        arrays.update({f"code.{c}": v for c, v in self.codes.items()})
        arrays.update({f"number.{c}": v for c, v in self.numbers.items()})
        return arrays

    def save(self, path: Path) -> None:
        """Write the copy whole, then move it into place: a reader sees the old or the new
        file, never half of one. The file is a JSON header (format, store, mark, category
        names, and each array's dtype, length and offset) and the raw arrays, so that a load
        maps them instead of reading and unzipping 900 MB (1.4 s at ten million cases)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {k: np.ascontiguousarray(v) for k, v in self._arrays().items()}
        layout: dict[str, dict[str, object]] = {}
        offsets: dict[str, int] = {}
        offset = 0
        for name, values in arrays.items():
            offsets[name] = offset
            layout[name] = {"dtype": values.dtype.str, "length": len(values), "offset": offset}
            offset += -(-values.nbytes // _ALIGN) * _ALIGN
        header = json.dumps(
            {
                "format": _FORMAT,
                "place": self.place,
                "mark": self.mark,
                "names": {c: [str(v) for v in names] for c, names in self.categories.items()},
                "arrays": layout,
            }
        ).encode()
        start = -(-(len(_MAGIC) + 8 + len(header)) // _ALIGN) * _ALIGN
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(_MAGIC + len(header).to_bytes(8, "little") + header)
                for name, values in arrays.items():
                    out.seek(start + offsets[name])
                    out.write(values.data)  # contiguous, as made above
                out.truncate(start + offset)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.changed_since_save = 0

    @classmethod
    def load(cls, path: Path, place: str) -> FactSnapshot | None:
        """The saved copy of ``place``, or None (none saved, another format, another store,
        or a damaged file: the copy is rebuilt then, never trusted). The arrays are mapped
        copy-on-write: a merge changes this process's pages, never the file."""
        try:
            with open(path, "rb") as fh:
                if fh.read(len(_MAGIC)) != _MAGIC:
                    return None
                size = int.from_bytes(fh.read(8), "little")
                meta = json.loads(fh.read(size))
            if meta.get("format") != _FORMAT or meta.get("place") != place:
                return None
            start = -(-(len(_MAGIC) + 8 + size) // _ALIGN) * _ALIGN
            whole = np.memmap(path, np.uint8, mode="c")
            arrays = {}
            for name, spec in meta["arrays"].items():
                dtype = np.dtype(spec["dtype"])
                if dtype.kind not in "iuf" or dtype.hasobject:
                    return None
                lo = start + int(spec["offset"])
                hi = lo + int(spec["length"]) * dtype.itemsize
                if hi > len(whole):
                    return None
                arrays[name] = whole[lo:hi].view(dtype)
            snap = cls(place, str(meta["mark"]), arrays["keys"], {}, {}, {}, {})
            for col in MOMENTS:
                snap.moments[col] = arrays[f"moment.{col}"]
            for col in TEXTS:
                snap.codes[col] = arrays[f"code.{col}"]
                snap.categories[col] = np.asarray(meta["names"][col], dtype=str)
            for col in NUMBERS:
                snap.numbers[col] = arrays[f"number.{col}"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("the saved KPI facts at %s cannot be read (%s); rebuilding", path, exc)
            return None
        lengths = {len(v) for v in snap._arrays().values()}
        codes_ok = all(
            not len(v) or (v.min() >= -1 and v.max() < len(snap.categories[c]))
            for c, v in snap.codes.items()
        )
        return snap if len(lengths) == 1 and codes_ok else None


def _utc(micros: np.ndarray) -> pd.arrays.DatetimeArray:
    """UTC microseconds as a pandas datetime array, without a copy where pandas allows."""
    dtype = pd.DatetimeTZDtype("us", "UTC")
    try:
        return pd.arrays.DatetimeArray._simple_new(micros.view("M8[us]"), dtype=dtype)
    except (AttributeError, TypeError):  # another pandas: the public way (a copy)
        return pd.array(micros.view("M8[us]")).tz_localize("UTC")


def _micros(values: pd.Series) -> np.ndarray:
    """UTC microseconds as int64, none as the smallest int64."""
    moments = pd.to_datetime(values, utc=True)
    return moments.to_numpy("datetime64[us]").view(np.int64).copy()


def _recode(codes: np.ndarray, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Codes into ``old`` as codes into ``new`` (a superset, sorted); -1 stays -1."""
    if not len(old):
        return codes
    table = np.searchsorted(new, old).astype(np.int32)
    return np.where(codes >= 0, table[np.maximum(codes, 0)], -1).astype(np.int32)


def cache_path(place: str) -> Path:
    """Where the copy of the store at ``place`` is saved: the user's cache directory
    (``$XDG_CACHE_HOME``, else ``~/.cache``), one file per store and database login."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    digest = hashlib.sha256(place.encode()).hexdigest()[:32]
    return Path(root) / "citydesk" / "facts" / f"{digest}.npz"


@dataclass
class _Part:
    """One part of the facts in the copy's compact form, codes into the part's own names."""

    keys: np.ndarray
    moments: dict[str, np.ndarray]
    codes: dict[str, np.ndarray]
    names: dict[str, np.ndarray]
    numbers: dict[str, np.ndarray]

    @classmethod
    def of(cls, table: pa.Table) -> _Part:
        import pyarrow as pa

        part = cls(case_keys(table.column("case_id")), {}, {}, {}, {})
        for col in MOMENTS:
            part.moments[col] = _arrow_micros(table.column(col).combine_chunks())
        for col in TEXTS:
            text = table.column(col).combine_chunks()
            if not pa.types.is_string(text.type):
                text = text.cast(pa.string())  # a dictionary or large string: the same texts
            encoded = text.dictionary_encode()
            names = np.asarray(encoded.dictionary.to_pylist(), dtype=str)
            order = np.argsort(names, kind="stable")  # the copy keeps names sorted
            rank = np.empty(len(order), np.int32)
            rank[order] = np.arange(len(order), dtype=np.int32)
            codes = encoded.indices.fill_null(-1).to_numpy().astype(np.int32)
            if len(names):  # else every value is missing: the codes are all -1 already
                codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1).astype(np.int32)
            part.codes[col] = codes
            part.names[col] = names[order]
        for col, dtype in NUMBERS.items():
            values = pd.to_numeric(table.column(col).to_pandas(), errors="coerce")
            if np.issubdtype(dtype, np.integer):
                values = values.fillna(0)
            part.numbers[col] = values.to_numpy(dtype)
        return part


def table_of(frame: pd.DataFrame) -> pa.Table:
    """A facts frame (``COLUMNS``) as the table :meth:`FactSnapshot.from_tables` reads."""
    import pyarrow as pa

    columns: dict[str, pa.Array] = {"case_id": pa.array(frame["case_id"].astype("string"))}
    for col in MOMENTS:
        columns[col] = pa.array(_micros(frame[col]))
    for col in TEXTS:
        columns[col] = pa.array(frame[col].astype("string"))
    for col in NUMBERS:
        columns[col] = pa.array(pd.to_numeric(frame[col], errors="coerce"))
    return pa.table(columns)


def _arrow_micros(values: pa.Array) -> np.ndarray:
    """UTC microseconds of an Arrow column of moments (timestamps, naive ones being UTC as
    the stores write them, or epoch microseconds already), none as the smallest int64."""
    import pyarrow as pa

    if pa.types.is_timestamp(values.type):
        values = values.cast(pa.timestamp("us", values.type.tz)).cast(pa.int64())
    elif not pa.types.is_integer(values.type):  # text or dates: as pandas reads them
        return _micros(values.to_pandas())
    return values.fill_null(_NAT).to_numpy().astype(np.int64)


def _joined(arrays: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)
