"""The plugin host: finds plugins, checks them, and imports their code only when used.

Three places are searched, none of them by importing anything:

* the built-in plugin (``plugins/builtin/citydesk_plugin.toml``): CityDesk's own analyses go
  through the same mechanism as everyone else's;
* the entry-point group ``citydesk.plugins``: an installed package declares
  ``name = "package"``; its manifest is ``package/citydesk_plugin.toml``, found with
  ``importlib.util.find_spec`` (which locates a top-level package without running it);
* the user plugins folder (``<user data>/citydesk/plugins/NAME/citydesk_plugin.toml``, via
  platformdirs), whose folder goes on ``sys.path`` when its code is first needed.

Each plugin gets a status. ``ok`` plugins contribute; every other status keeps the plugin out
and says why: ``invalid`` (manifest), ``incompatible`` (``requires-citydesk`` excludes this
version), ``missing-dependency`` (a declared requirement is not installed or too old),
``failed`` (its code raised on import or run), ``disabled`` (by the user). The app keeps
running whatever a plugin does.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import logging
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.version import Version

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _
from citydesk.layers.version import __version__

from . import legacy_imports
from .manifest import MANIFEST_NAME, Contribution, Manifest, ManifestError, parse_manifest

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "citydesk.plugins"
BUILTIN_MANIFEST = Path(__file__).parent / "builtin" / MANIFEST_NAME


class PluginError(CityDeskError):
    """A plugin cannot be used (not found, not usable, or its code failed)."""


@dataclass
class PluginRecord:
    """A plugin as the host sees it: where it came from, its manifest and its status."""

    source: str  # "builtin", "entry point <name>" or the folder
    manifest_path: Path | None
    import_root: Path | None  # added to sys.path before importing (user folder plugins)
    manifest: Manifest | None = None
    status: str = "ok"
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.manifest.name if self.manifest else Path(self.source).name

    @property
    def usable(self) -> bool:
        return self.status == "ok"


def user_plugins_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("citydesk", appauthor=False) / "plugins"


def _settings_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("citydesk", appauthor=False) / "plugins.json"


def disabled_plugins() -> set[str]:
    path = _settings_path()
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # unreadable settings: nothing disabled
        return set()
    names = saved.get("disabled", []) if isinstance(saved, dict) else []
    if not isinstance(names, list):
        return set()
    return {n for n in names if isinstance(n, str)}


def set_enabled(name: str, enabled: bool) -> None:
    """Remember the user's choice (a JSON file in the user config folder)."""
    disabled = disabled_plugins()
    disabled.discard(name) if enabled else disabled.add(name)
    path = _settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps({"disabled": sorted(disabled)}, indent=1), encoding="utf-8")
    tmp.replace(path)


def _entry_point_sources() -> list[PluginRecord]:
    records = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        package = ep.value.split(":")[0].strip()
        record = PluginRecord(f"entry point {ep.name}", None, None)
        try:
            spec = importlib.util.find_spec(package.split(".")[0])
        except (ImportError, ValueError) as exc:
            spec, record.problems = None, [str(exc)]
        if spec is None or not spec.submodule_search_locations:
            record.status = "invalid"
            record.problems.append(
                _("the entry point names '{package}', which is not an installed package").format(
                    package=package
                )
            )
        else:
            folder = Path(next(iter(spec.submodule_search_locations)))
            for part in package.split(".")[1:]:
                folder = folder / part
            record.manifest_path = folder / MANIFEST_NAME
        records.append(record)
    return records


def _folder_sources(folders: list[Path]) -> list[PluginRecord]:
    records = []
    for root in folders:
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            records.append(PluginRecord(str(folder), folder / MANIFEST_NAME, folder))
    return records


def _check(record: PluginRecord, disabled: set[str], versions: dict[str, str | None]) -> None:
    """Fill in the manifest and the status, without importing plugin code."""
    if record.status != "ok" or record.manifest_path is None:
        return
    try:
        text = record.manifest_path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        record.status = "invalid"
        record.problems.append(
            _("the manifest {file} is not UTF-8 text (byte {at}); save it as UTF-8").format(
                file=record.manifest_path, at=exc.start
            )
        )
        return
    except OSError:
        record.status = "invalid"
        record.problems.append(
            _("no manifest ({file}) in {folder}").format(
                file=MANIFEST_NAME, folder=record.manifest_path.parent
            )
        )
        return
    try:
        record.manifest = parse_manifest(text, str(record.manifest_path))
    except ManifestError as exc:
        record.status = "invalid"
        record.problems.append(exc.message)
        return
    manifest = record.manifest
    if not manifest.supports(__version__):
        record.status = "incompatible"
        record.problems.append(
            _("needs CityDesk {spec}; this is {version}").format(
                spec=manifest.requires_citydesk, version=__version__
            )
        )
        return
    missing = _missing_dependencies(manifest.dependencies, versions)
    if missing:
        record.status = "missing-dependency"
        record.problems.append(
            _("missing Python packages: {deps}; install them with pip").format(
                deps=", ".join(missing)
            )
        )
        return
    if manifest.name in disabled:
        record.status = "disabled"


def _missing_dependencies(
    requirements: tuple[str, ...], versions: dict[str, str | None] | None = None
) -> list[str]:
    """The declared requirements that are not installed in a matching version (read from
    the installed distributions' metadata, not by importing them). ``versions`` keeps what
    one host has looked up (many plugins need numpy: 1.5 ms a lookup)."""
    versions = {} if versions is None else versions
    missing = []
    for text in requirements:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate():
            continue
        if req.name not in versions:
            try:
                versions[req.name] = importlib.metadata.version(req.name)
            except importlib.metadata.PackageNotFoundError:
                versions[req.name] = None
        found = versions[req.name]
        if found is None:
            missing.append(text)
            continue
        installed = Version(found)
        if req.specifier and installed not in req.specifier:
            have = _("installed {version}").format(version=installed)
            missing.append(f"{text} ({have})")
    return missing


class PluginHost:
    """Every plugin found, checked, with their contributions looked up without imports."""

    def __init__(self, folders: list[Path] | None = None, entry_points: bool = True) -> None:
        from .formats import install  # the host fills the data layer's format registry

        install()
        records = [PluginRecord("builtin", BUILTIN_MANIFEST, None)]
        if entry_points:
            records += _entry_point_sources()
        records += _folder_sources([user_plugins_dir(), *(folders or [])])
        disabled = disabled_plugins()
        names: dict[str, PluginRecord] = {}
        versions: dict[str, str | None] = {}  # installed distributions, looked up once
        for record in records:
            _check(record, disabled, versions)
            if record.manifest and record.manifest.name in names:
                record.status = "invalid"
                record.problems.append(
                    _("a plugin named '{name}' is already loaded from {other}").format(
                        name=record.manifest.name, other=names[record.manifest.name].source
                    )
                )
            elif record.manifest:
                names[record.manifest.name] = record
        self.records = records
        self._loaded: dict[str, Any] = {}

    # -- looking things up (no imports) ---------------------------------------------------
    def plugins(self) -> list[PluginRecord]:
        return list(self.records)

    def plugin(self, name: str) -> PluginRecord:
        for record in self.records:
            if record.name == name:
                return record
        raise PluginError(
            _("no plugin named '{name}'").format(name=name),
            _("Installed plugins: {names}.").format(names=", ".join(r.name for r in self.records)),
        )

    def contributions(self, kind: str) -> list[tuple[PluginRecord, Contribution]]:
        return [(r, c) for r in self.records if r.usable for c in r.manifest.of_kind(kind)]

    def find(self, kind: str, contribution_id: str) -> tuple[PluginRecord, Contribution]:
        for record, contribution in self.contributions(kind):
            if contribution.id == contribution_id:
                return record, contribution
        known = [c.id for _r, c in self.contributions(kind)]
        blocked = [
            r for r in self.records if not r.usable and r.manifest
            and any(c.id == contribution_id for c in r.manifest.of_kind(kind))
        ]  # fmt: skip
        if blocked:
            r = blocked[0]
            raise PluginError(
                _("'{id}' belongs to plugin {name}, which is {status}: {why}").format(
                    id=contribution_id, name=r.name, status=r.status, why="; ".join(r.problems)
                ),
                _("Fix or enable the plugin: citydesk plugins list."),
                gui_fix=_("Fix or enable the plugin in Plugins > Plugin manager."),
            )
        raise PluginError(
            _("no {kind} contribution '{id}'").format(kind=kind, id=contribution_id),
            _("Available: {names}.").format(names=", ".join(known) or "-"),
        )

    # -- using code (imports, isolated) ---------------------------------------------------
    def load(self, record: PluginRecord, contribution: Contribution) -> Any:
        """Import the contribution's target on first use. If the plugin's code raises, the
        plugin is marked ``failed`` (with the error) and a :class:`PluginError` says so."""
        if contribution.target in self._loaded:
            return self._loaded[contribution.target]
        module_name, _sep, attribute = contribution.target.partition(":")
        legacy_imports.install()  # plugins written for 0.1 import layers.x: deprecated
        if record.import_root is not None and str(record.import_root) not in sys.path:
            sys.path.insert(0, str(record.import_root))
        outside = self._outside(record, module_name)
        if outside:
            record.status = "failed"
            record.problems.append(outside)
            raise PluginError(
                _("plugin {name}: {problem}").format(name=record.name, problem=outside),
                _("A plugin's entries must name its own code; the plugin is disabled."),
            )
        try:
            value: Any = importlib.import_module(module_name)
            for part in attribute.split("."):
                value = getattr(value, part)
        except (Exception, SystemExit) as exc:  # the plugin's code, not ours: isolate it
            self.fail(record, exc)
            raise PluginError(
                _("plugin {name} failed to load {target}: {err}").format(
                    name=record.name, target=contribution.target, err=exc
                ),
                _("The plugin is disabled for this session; see citydesk plugins list."),
                gui_fix=_("The plugin is disabled for this session; see Plugins > Plugin manager."),
            ) from exc
        self._loaded[contribution.target] = value
        return value

    @staticmethod
    def _outside(record: PluginRecord, module_name: str) -> str:
        """Why ``module_name`` is not the plugin's own code ('' when it is): a manifest
        entry such as ``runpy:run_path`` would make CityDesk run any file (issue 21). The
        module is located without running it, and must lie in the plugin's folder."""
        if record.source == "builtin" or record.manifest_path is None:
            return ""
        home = record.manifest_path.parent.resolve()
        try:
            spec = importlib.util.find_spec(module_name)
        except (ImportError, ValueError):
            spec = None
        places = []
        if spec is not None:
            places = [spec.origin] if spec.origin else list(spec.submodule_search_locations or [])
        inside = bool(places) and all(Path(p).resolve().is_relative_to(home) for p in places if p)
        if inside:
            return ""
        return _("the entry '{module}' is not inside the plugin's folder {home}").format(
            module=module_name, home=home
        )

    def call(self, record: PluginRecord, contribution: Contribution, *args, wrap=None) -> Any:
        """Load a contribution and call it with ``args``. A :class:`CityDeskError` (bad input,
        explained) or a cancel passes through; any other exception is the plugin's bug: the
        plugin is marked failed and the error re-raised as ``wrap(exc)`` when given."""
        from citydesk.layers.feedback import CanceledError

        function = self.load(record, contribution)
        try:
            return function(*args)
        except (CityDeskError, CanceledError):
            raise
        except SystemExit as exc:  # a plugin must not end CityDesk (issue 21)
            self.fail(record, exc)
            raise PluginError(
                _("plugin {name} tried to end CityDesk (sys.exit({code}))").format(
                    name=record.name, code=exc.code
                ),
                _("The plugin is disabled for this session; see citydesk plugins list."),
                gui_fix=_("The plugin is disabled for this session; see Plugins > Plugin manager."),
            ) from exc
        except Exception as exc:
            if record.source == "builtin":
                # CityDesk's own algorithms: a bug of ours, reported as one, never a reason to
                # take the built-in tools away until a restart (issue 21)
                raise
            self.fail(record, exc)
            if wrap is None:
                raise
            raise wrap(exc) from exc

    def fail(self, record: PluginRecord, exc: BaseException) -> None:
        """Record a plugin's failure (its own code raised) and take it out of use."""
        record.status = "failed"
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" ({last[0].filename}:{last[0].lineno})" if last else ""
        record.problems.append(f"{type(exc).__name__}: {exc}{where}")
        log.warning("plugin %s failed and is disabled: %s", record.name, record.problems[-1])
        log.debug("the plugin's traceback", exc_info=exc)

    def imported_modules(self) -> set[str]:
        """Top-level modules of every non-builtin plugin that are in ``sys.modules``: what
        the lazy-loading test checks is empty until a contribution is used."""
        names = set()
        for record in self.records:
            if record.source == "builtin" or not record.manifest:
                continue
            for c in record.manifest.contributions:
                top = c.target.split(":")[0].split(".")[0]
                if top in sys.modules:
                    names.add(top)
        return names
