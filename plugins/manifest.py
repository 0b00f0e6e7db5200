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

The file is checked against a JSON Schema (jsonschema) after TOML parsing; an invalid
manifest is reported with the path of the offending key, and the plugin is disabled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jsonschema
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _
from citydesk.layers.toml_text import parse_toml

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
    "output_layer",
)
_TARGET = {"type": "string", "pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$"}
_ID = {"type": "string", "pattern": r"^[a-z0-9_.-]+(:[a-z0-9_.-]+)?$"}
_PARAMETER = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"enum": list(PARAMETER_TYPES)},
        "label": {"type": "string"},
        "description": {"type": "string"},
        "default": {},
        "optional": {"type": "boolean"},
        "geometry": {"enum": ["point", "line", "polygon", "any"]},
        "parent": {"type": "string"},
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "options": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "extensions": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": False,
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["plugin"],
    "additionalProperties": False,
    "properties": {
        "plugin": {
            "type": "object",
            "required": [
                "name",
                "version",
                "author",
                "description",
                "license",
                "requires-citydesk",
            ],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$"},
                "version": {"type": "string"},
                "author": {"type": "string"},
                "description": {"type": "string"},
                "license": {"type": "string"},
                "requires-citydesk": {"type": "string"},
                "dependencies": {"type": "array", "items": {"type": "string"}},
            },
        },
        "readers": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "extensions", "read"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "name": {"type": "string"},
                    "extensions": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "read": _TARGET,
                },
            },
        },
        "writers": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "extensions", "write"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "name": {"type": "string"},
                    "extensions": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "write": _TARGET,
                },
            },
        },
        "algorithms": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "run"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "name": {"type": "string"},
                    "group": {"type": "string"},
                    "description": {"type": "string"},
                    "run": _TARGET,
                    "parameters": {"type": "object", "additionalProperties": _PARAMETER},
                },
            },
        },
        "indicators": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "label", "unit", "compute"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "label": {"type": "string"},
                    "unit": {"type": "string"},
                    "better": {"enum": ["higher", "lower", ""]},
                    "formula": {"type": "string"},
                    "compute": _TARGET,
                },
            },
        },
        "panels": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "title", "widget"],
                "additionalProperties": False,
                "properties": {"id": _ID, "title": {"type": "string"}, "widget": _TARGET},
            },
        },
        "commands": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "title", "run"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "title": {"type": "string"},
                    "menu": {"type": "string"},
                    "run": _TARGET,
                },
            },
        },
    },
}


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
    errors = sorted(
        jsonschema.Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.path)
    )
    if errors:
        found = "; ".join(
            f"{'.'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
            for e in errors[:3]
        )
        raise ManifestError(
            _("the plugin manifest is invalid ({errors})").format(errors=found),
            _("See docs/PLUGINS.md for the manifest keys."),
            path=source or None,
        )
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
