"""A tqdm progress bar behind the domain's feedback contract (see layers.feedback)."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator

from tqdm import tqdm

log = logging.getLogger(__name__)


class TqdmFeedback:
    """Drives one tqdm bar; silent when stderr is not a terminal (CI logs, pipes)."""

    def __init__(self, desc: str = "") -> None:
        self._bar = tqdm(
            total=100,
            desc=desc,
            unit="%",
            disable=None,
            file=sys.stderr,
            bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}",
        )
        self._last = 0.0
        self._canceled = False

    def set_progress(self, pct: float) -> None:
        pct = max(self._last, min(100.0, float(pct)))
        self._bar.update(pct - self._last)
        self._last = pct

    def push_info(self, msg: str) -> None:
        log.info(msg)
        self._bar.set_postfix_str(msg, refresh=True)

    def is_canceled(self) -> bool:
        # Ctrl+C raises KeyboardInterrupt, handled by the CLI, unless the command asked for
        # a graceful stop (stop_on_interrupt): then the first Ctrl+C lands here
        return self._canceled

    def cancel(self) -> None:
        self._canceled = True

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> TqdmFeedback:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def stop_on_interrupt(feedback: TqdmFeedback) -> Iterator[None]:
    """The first Ctrl+C asks the work to stop and return what it has (a Pareto front keeps
    the points it proved); a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame) -> None:
        if feedback.is_canceled():
            raise KeyboardInterrupt
        feedback.cancel()
        log.warning("stopping: what is done so far is kept (Ctrl+C again to abort)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
