"""Zipped data sets: how city portals publish shapefiles (and GeoJSON, GeoPackages, CSV).

A ZIP is unpacked once into the user's cache, the chosen data set with its sidecar files (a
shapefile is five files: the encoding checks read its ``.dbf`` and ``.cpg``, and a layer may
read its attribute columns later, when first drawn), and then read as any file is read. A
member is chosen by name when the archive holds several data sets. Unpacking takes each
member's file name only, never its folders (no ``../`` escapes the cache), and refuses an
archive that would unpack to more than :data:`MAX_UNPACKED` bytes. A data set that is a
folder (an Esri File Geodatabase, ``parcels.gdb/``, how US city portals offer downloads) is
one member: its files are unpacked under its own name, their paths inside it kept, none
with ``..``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Collection
from pathlib import Path, PurePosixPath

from ..errors import LayerReadError, NeedsReadOptions
from ..i18n import _

ARCHIVES = {".zip"}
#: data sets that are folders of files (Esri File Geodatabase)
FOLDER_DATA_SETS = (".gdb",)
#: the most an archive may unpack to (a zip bomb stops here, before the disk fills)
MAX_UNPACKED = 16 << 30
#: an unpacked archive not opened for this long is removed when another is unpacked (a
#: project keeps its layers' data in its own file, so nothing it holds lives here)
KEEP_UNUSED_S = 30 * 24 * 3600


def is_archive(path: str | Path) -> bool:
    return Path(path).suffix.lower() in ARCHIVES


def cache_root() -> Path:
    """Where archives are unpacked: ``$XDG_CACHE_HOME/citydesk/archives`` (else ~/.cache)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "citydesk" / "archives"


def _members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Files of the archive, without folders and macOS's resource forks."""
    return [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and "__MACOSX" not in PurePosixPath(info.filename).parts
        and not PurePosixPath(info.filename).name.startswith("._")
    ]


def _folder_data_set(name: str, readable: Collection[str]) -> str | None:
    """The folder data set (``a/parcels.gdb``) a member lies in, if any."""
    parts = PurePosixPath(name).parts
    for i, part in enumerate(parts[:-1]):
        suffix = PurePosixPath(part).suffix.lower()
        if suffix in FOLDER_DATA_SETS and suffix in readable:
            return str(PurePosixPath(*parts[: i + 1]))
    return None


def data_members(path: str | Path, readable: Collection[str]) -> list[str]:
    """The archive's members CityDesk reads (by extension), in the archive's order; a folder
    data set once, by its folder."""
    out: list[str] = []
    with _open(Path(path)) as archive:
        for info in _members(archive):
            folder = _folder_data_set(info.filename, readable)
            if folder is not None:
                if folder not in out:
                    out.append(folder)
            elif PurePosixPath(info.filename).suffix.lower() in readable:
                out.append(info.filename)
    return out


def _open(path: Path) -> zipfile.ZipFile:
    if not path.exists():
        raise LayerReadError(_("the file does not exist"), _("Check the path."), path=str(path))
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise LayerReadError(
            _("this is not a readable ZIP archive ({exc})").format(exc=exc),
            _("The download may be incomplete: download it again, or unzip it and open the file."),
            path=str(path),
        ) from exc


def unpack(path: str | Path, member: str | None, readable: Collection[str]) -> Path:
    """The data set ``member`` of the archive (its file name, with or without extension;
    None when it holds one) as a file in the cache, its sidecar files beside it."""
    path = Path(path)
    names = data_members(path, readable)
    if member is not None:
        chosen = [n for n in names if member in (PurePosixPath(n).name, PurePosixPath(n).stem)]
    else:
        chosen = names
    listed = ", ".join(PurePosixPath(n).name for n in names[:12])
    if not names:
        raise LayerReadError(
            _("the archive holds no data set CityDesk reads"),
            _("Unzip it and check its files; CityDesk reads .gpkg .shp .geojson .fgb .csv."),
            path=str(path),
        )
    if not chosen:
        raise NeedsReadOptions(
            _("the archive has no data set '{name}' (it has: {names})").format(
                name=member, names=listed
            ),
            _("Name one of them with --layer."),
            options=("layer",),
            gui_fix=_("Add it again and choose one of its data sets from the list."),
            path=str(path),
        )
    if len(chosen) > 1:
        raise NeedsReadOptions(
            _("the archive holds several data sets: {names}").format(names=listed),
            _("Name the one to open with --layer (e.g. --layer {name}).").format(
                name=PurePosixPath(chosen[0]).name
            ),
            options=("layer",),
            gui_fix=_("Add it again and choose one of its data sets from the list."),
            path=str(path),
        )
    return _unpacked(path, chosen[0])


def _unpacked(path: Path, member: str) -> Path:
    """``member`` and the files sharing its name (``parks.shp``, ``parks.dbf`` ...), unpacked
    once per archive version into the cache (a second open reads the files already there)."""
    stat = path.stat()
    key = hashlib.sha256(
        f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{member}".encode()
    ).hexdigest()[:24]
    target = cache_root() / key
    inner = target / PurePosixPath(member).name
    if inner.exists():
        os.utime(target)  # in use: kept by the pruning below
        return inner
    _prune(cache_root())
    stem = str(PurePosixPath(member).with_suffix(""))
    folder = PurePosixPath(member).suffix.lower() in FOLDER_DATA_SETS
    with _open(path) as archive:
        siblings = [
            info
            for info in _members(archive)
            if (
                info.filename.startswith(member + "/")
                if folder
                else str(PurePosixPath(info.filename).with_suffix("")) == stem
            )
        ]
        if sum(info.file_size for info in siblings) > MAX_UNPACKED:
            raise LayerReadError(
                _("the archive would unpack to more than {gib} GiB").format(gib=MAX_UNPACKED >> 30),
                _("Unzip it yourself where there is room, and open the data file."),
                path=str(path),
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=target.parent, prefix=".unpacking-"))
        try:
            for info in siblings:
                out = work / _inner_path(info.filename, member if folder else None)
                out.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            try:
                os.replace(work, target)  # all files or none, also with two readers at once
            except OSError:
                if not inner.exists():
                    raise
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise LayerReadError(
                _("the archive cannot be unpacked ({exc})").format(exc=exc),
                _("The download may be incomplete: download it again."),
                path=str(path),
            ) from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return inner


def _inner_path(name: str, folder: str | None) -> Path:
    """Where a member goes in the unpacking folder: its file name (no folders: nothing
    escapes), or for a folder data set its path from the folder on, without ``..``."""
    if folder is None:
        return Path(PurePosixPath(name).name)
    inside = [p for p in PurePosixPath(name[len(folder) + 1 :]).parts if p not in ("", ".", "..")]
    return Path(PurePosixPath(folder).name, *inside)


def _prune(root: Path) -> None:
    """Remove the unpacked archives not opened for :data:`KEEP_UNUSED_S` seconds."""
    import time

    if not root.is_dir():
        return
    oldest = time.time() - KEEP_UNUSED_S
    for entry in root.iterdir():
        try:
            if entry.is_dir() and entry.stat().st_mtime < oldest:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue  # another process removed it meanwhile
