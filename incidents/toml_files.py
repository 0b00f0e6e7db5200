"""Reading the TOML files cities write (mappings, routing rules), or the shipped ones by name.

Both go through the one strict reader, :mod:`citydesk.layers.toml_schema`: a misspelt key is
an error naming it, never silently ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from citydesk.layers.errors import CityDeskError
from citydesk.layers.toml_schema import read_table, read_toml_file

T = TypeVar("T")


def load_toml(
    path: str | Path, shipped: Path, error: type[CityDeskError], what: str, schema: type[T]
) -> tuple[Path, T]:
    """(the path read, its content checked against the dataclass ``schema``). ``path`` may
    name a shipped file: ``nyc311`` reads ``shipped`` with ``{name}`` replaced."""
    path = Path(path)
    candidate = Path(str(shipped).format(name=path.name))
    if not path.exists() and candidate.exists():
        path = candidate
    path, data = read_toml_file(path, error, what)
    return path, read_table(schema, data, error, str(path))
