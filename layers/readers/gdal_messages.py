"""GDAL's error text as a user reads it.

Some GDAL drivers prefix their errors with the C++ source file and line they were raised at
(``/opt/vcpkg/buildtrees/.../ogrdxfdatasource.cpp, 855: error at line 581 of plan.dxf``),
which means nothing to a planner and buries the part that does."""

from __future__ import annotations

import re

_SOURCE_PREFIX = re.compile(r"^\S+\.(?:cpp|c|h), \d+: ")


def gdal_message(exc: BaseException) -> str:
    """The error's text without a source-file prefix, on one line."""
    text = " ".join(str(exc).split())
    return _SOURCE_PREFIX.sub("", text)
