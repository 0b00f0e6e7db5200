"""Keep Python's full garbage collections from freezing the window.

A full collection walks every tracked object of the process while holding the interpreter
lock. With a project open, the window process holds a quarter of a million of them (layer
tables, the map's cached Qt shapes), and a full collection took 140-173 ms here. It
happened whenever some thread allocated enough (an analysis's result arriving, a table
selecting every row): it was the last stall over the 200 ms target of issue 20.

The long-lived objects are the project's, and they live until another project is opened.
So once the map has drawn, everything alive is moved out of the collector's sight
(``gc.freeze``) and later collections walk only what came since. Opening or closing a
project lets them back in (``gc.unfreeze``), so the previous project's cycles are freed by
the next full collection instead of being kept for the life of the process.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """The map has drawn: what is alive now is long-lived. Cheap (no collection)."""
    gc.freeze()


def release() -> None:
    """A project is closing: its objects become collectable again."""
    gc.unfreeze()
