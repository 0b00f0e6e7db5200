"""The plugin manifest: a TOML file that says what a plugin is and what it contributes.

Everything the host needs before running any plugin code is in the manifest: identity,
the CityDesk versions it supports, its Python dependencies, and its contributions with
their parameters. So the host can list plugins, check them, build algorithm dialogs and CLI
help without importing a line of plugin code (napari's npe2 idea); code is imported only
when a contribution is first used.

```toml
[plugin]
name = "noise-exposure"
version = "1.0.0"
author = "A. Planner"
description = "Homes near major roads"
license = "MIT"
requires-citydesk = ">=0.1"
dependencies = ["shapely>=2"]

[[algorithms]]
id = "noise:exposure"
name = "Noise exposure"
group = "Environment"
description = "..."
run = "noise_exposure.algorithm:run"       # module:function, imported on first run

[algorithms.parameters.roads]
type = "layer"
geometry = "line"
label = "Major roads"
```

The file is read by CityDesk's one strict TOML reader (:mod:`citydesk.layers.toml_schema`)
against the dataclasses below: an unknown or misspelt key, a wrong type or a missing required
key is reported with its dotted path (and the nearest known key), and the plugin is disabled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _
from citydesk.layers.toml_schema import Reader, parse_toml

MANIFEST_NAME = "citydesk_plugin.toml"
CONTRIBUTION_KINDS = ("readers", "writers", "algorithms", "indicators", "panels", "commands")
PARAMETER_TYPES = (
    "layer",
    "field",
    "number",
    "integer",
    "boolean",
    "enum",
    "string",
    "crs",
    "extent",
    "file",
    "output_file",
    "output_layer",
)
_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")  # module.path:attribute
_ID = re.compile(r"^[a-z0-9_.-]+(:[a-z0-9_.-]+)?$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass
class PluginTable:
    name: str
    version: str
    author: str
    description: str
    license: str
    requires_citydesk: str = field(metadata={"key": "requires-citydesk"})
    dependencies: list[str] = field(default_factory=list)


@dataclass
class ParameterSpec:
    type: str
    label: str = ""
    description: str = ""
    default: Any = None
    optional: bool = False
    geometry: Literal["point", "line", "polygon", "any"] | None = None
    parent: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    options: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)


@dataclass
class ReaderEntry:
    id: str
    extensions: list[str]
    read: str
    name: str = ""


@dataclass
class WriterEntry:
    id: str
    extensions: list[str]
    write: str
    name: str = ""


@dataclass
class AlgorithmEntry:
    id: str
    name: str
    run: str
    group: str = ""
    description: str = ""
    parameters: dict[str, ParameterSpec] = field(default_factory=dict)


@dataclass
class IndicatorEntry:
    id: str
    label: str
    unit: str
    compute: str
    better: Literal["higher", "lower", ""] = ""
    formula: str = ""


@dataclass
class PanelEntry:
    id: str
    title: str
    widget: str


@dataclass
class CommandEntry:
    id: str
    title: str
    run: str
    menu: str = ""


@dataclass
class ManifestFile:
    """The TOML layout of citydesk_plugin.toml, checked key by key."""

    plugin: PluginTable
    readers: list[ReaderEntry] = field(default_factory=list)
    writers: list[WriterEntry] = field(default_factory=list)
    algorithms: list[AlgorithmEntry] = field(default_factory=list)
    indicators: list[IndicatorEntry] = field(default_factory=list)
    panels: list[PanelEntry] = field(default_factory=list)
    commands: list[CommandEntry] = field(default_factory=list)


class ManifestError(CityDeskError):
    """The manifest cannot be used; the message names the key."""


@dataclass(frozen=True)
class Contribution:
    """One thing a plugin adds; ``target`` is "module:attribute", imported on first use."""

    kind: str
    id: str
    target: str
    data: dict = field(default_factory=dict)  # the manifest entry (name, parameters, ...)

    @property
    def title(self) -> str:
        return str(
            self.data.get("name") or self.data.get("title") or self.data.get("label") or self.id
        )


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    requires_citydesk: str
    author: str = ""
    description: str = ""
    license: str = ""
    dependencies: tuple[str, ...] = ()
    contributions: tuple[Contribution, ...] = ()

    def of_kind(self, kind: str) -> list[Contribution]:
        return [c for c in self.contributions if c.kind == kind]

    def supports(self, app_version: str) -> bool:
        return Version(app_version) in SpecifierSet(self.requires_citydesk)


_TARGET_KEY = {
    "readers": "read",
    "writers": "write",
    "algorithms": "run",
    "indicators": "compute",
    "panels": "widget",
    "commands": "run",
}


def parse_manifest(text: str, source: str = "") -> Manifest:
    """A checked :class:`Manifest` from TOML text."""
    data = parse_toml(text, ManifestError, _("plugin manifest"), source)
    reader = Reader(ManifestError, source)
    checked = reader.build(ManifestFile, data)
    _check_patterns(checked, reader)
    plugin = data["plugin"]
    _check_versions(plugin, source)
    contributions = []
    seen: set[str] = set()
    for kind in CONTRIBUTION_KINDS:
        for entry in data.get(kind, []):
            if entry["id"] in seen:
                raise ManifestError(
                    _("the contribution id '{id}' is used twice").format(id=entry["id"]),
                    _("Give every contribution its own id."),
                    path=source or None,
                )
            seen.add(entry["id"])
            _check_parameters(entry, source)
            contributions.append(Contribution(kind, entry["id"], entry[_TARGET_KEY[kind]], entry))
    return Manifest(
        name=plugin["name"],
        version=plugin["version"],
        requires_citydesk=plugin["requires-citydesk"],
        author=plugin.get("author", ""),
        description=plugin.get("description", ""),
        license=plugin.get("license", ""),
        dependencies=tuple(plugin.get("dependencies", [])),
        contributions=tuple(contributions),
    )


def _check_patterns(m: ManifestFile, reader: Reader) -> None:
    """What a type cannot say: name and id spelling, module:attribute targets, non-empty
    lists, known parameter types."""
    if not _NAME.match(m.plugin.name):
        reader.fail(
            "plugin.name",
            _("'{v}' is not a usable plugin name").format(v=m.plugin.name),
            _("Use lower-case letters, digits, '-' and '_'."),
        )
    for kind in CONTRIBUTION_KINDS:
        for i, entry in enumerate(getattr(m, kind)):
            where = f"{kind}[{i}]"
            if not _ID.match(entry.id):
                reader.fail(
                    f"{where}.id",
                    _("'{v}' is not a usable id").format(v=entry.id),
                    _('Use lower-case letters, digits and ".-_", e.g. "noise:exposure".'),
                )
            key = _TARGET_KEY[kind]
            if not _TARGET.match(getattr(entry, key)):
                reader.fail(
                    f"{where}.{key}",
                    _("'{v}' is not module:attribute").format(v=getattr(entry, key)),
                    _('Name the code to call, e.g. "my_plugin.algorithm:run".'),
                )
            if hasattr(entry, "extensions") and not entry.extensions:
                reader.fail(f"{where}.extensions", _("is empty"), _('Give e.g. [".xyz"].'))
            for name, spec in getattr(entry, "parameters", {}).items():
                reader.one_of(
                    f"{where}.parameters.{name}.type", spec.type, PARAMETER_TYPES, _("type")
                )


def _check_versions(plugin: dict, source: str) -> None:
    try:
        Version(plugin["version"])
        SpecifierSet(plugin["requires-citydesk"])
        for dep in plugin.get("dependencies", []):
            Requirement(dep)
    except (InvalidVersion, InvalidSpecifier, InvalidRequirement) as exc:
        raise ManifestError(
            _("the plugin manifest has a bad version or requirement ({err})").format(err=exc),
            _('Use PEP 440 versions and PEP 508 requirements, e.g. "shapely>=2".'),
            path=source or None,
        ) from exc


def _check_parameters(entry: dict, source: str) -> None:
    params = entry.get("parameters", {})
    for name, spec in params.items():
        if spec["type"] == "field" and spec.get("parent") not in params:
            raise ManifestError(
                _(
                    "parameter '{name}' of {id} is a field but names no layer parameter as parent"
                ).format(name=name, id=entry["id"]),
                _('Add parent = "<layer parameter>".'),
                path=source or None,
            )
        if spec["type"] == "enum" and not spec.get("options"):
            raise ManifestError(
                _("parameter '{name}' of {id} is an enum without options").format(
                    name=name, id=entry["id"]
                ),
                _('Add options = ["a", "b"].'),
                path=source or None,
            )
