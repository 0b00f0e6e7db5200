"""A tqdm progress bar behind the domain's feedback contract (see layers.feedback)."""

from __future__ import annotations

import logging
import sys

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

    def set_progress(self, pct: float) -> None:
        pct = max(self._last, min(100.0, float(pct)))
        self._bar.update(pct - self._last)
        self._last = pct

    def push_info(self, msg: str) -> None:
        log.info(msg)
        self._bar.set_postfix_str(msg, refresh=True)

    def is_canceled(self) -> bool:
        return False  # Ctrl+C raises KeyboardInterrupt, handled by the CLI

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> TqdmFeedback:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
