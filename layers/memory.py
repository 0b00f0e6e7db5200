"""Give freed heap memory back to the operating system.

Why: glibc's allocator keeps the memory of many small freed objects (GEOS geometries made
and dropped batch by batch while a layer is read into arrays) in its heap instead of
returning it, so a process that has built and dropped 350 MiB of shapely objects keeps that
much resident. ``malloc_trim(0)`` hands the free pages back (Dask's workers do the same). It
is a no-op where the C library has no such call (musl, macOS, Windows).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _trim() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return getattr(libc, "malloc_trim", None)
    except OSError:
        return None


def release_freed_memory() -> None:
    """Return free heap pages to the system (glibc); a few milliseconds."""
    trim = _trim()
    if trim is not None:
        trim(0)
