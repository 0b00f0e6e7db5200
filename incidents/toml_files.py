"""Reading the TOML files cities write (mappings, routing rules), or the shipped ones by name."""

from __future__ import annotations

from pathlib import Path

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _
from citydesk.layers.toml_text import parse_toml


def load_toml(
    path: str | Path, shipped: Path, error: type[CityDeskError], what: str
) -> tuple[Path, dict]:
    """(the path read, its content). ``path`` may name a shipped file: ``nyc311`` reads
    ``shipped`` with ``{name}`` replaced. Unreadable TOML raises ``error`` naming ``what``."""
    path = Path(path)
    candidate = Path(str(shipped).format(name=path.name))
    if not path.exists() and candidate.exists():
        path = candidate
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(
            _("cannot read the {what} ({err})").format(what=what, err=exc),
            _("Check the path and the file's permissions."),
            path=str(path),
        ) from exc
    return path, parse_toml(text, error, what, str(path))
