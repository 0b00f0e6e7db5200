"""Read the ``dependencies:`` list of a conda environment.yml without a YAML library.

environment.yml is kept to the simple subset conda writes (a flat list of strings), so a few
lines of parsing avoid adding PyYAML as a test dependency just for this check.
"""

from __future__ import annotations


def dependencies(text: str) -> list[str]:
    deps: list[str] = []
    inside = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not raw.startswith((" ", "-")):
            inside = line.strip() == "dependencies:"
            continue
        if inside and line.strip().startswith("- "):
            deps.append(line.strip()[2:].strip())
    return deps
