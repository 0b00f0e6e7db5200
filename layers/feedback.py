"""The progress/cancel contract that every long operation takes.

It is the same idea as QGIS's ``QgsFeedback`` and Orange's ``TaskState``: domain code reports
progress and polls for cancellation through this small object, and never touches a widget.
The GUI passes an implementation that forwards to a progress bar on the GUI thread; the CLI
passes one that drives a tqdm bar; tests pass :class:`RecordingFeedback`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class CanceledError(Exception):
    """Raised by domain code when ``feedback.is_canceled()`` turned true mid-operation."""


@runtime_checkable
class Feedback(Protocol):
    def set_progress(self, pct: float) -> None: ...
    def push_info(self, msg: str) -> None: ...
    def is_canceled(self) -> bool: ...


class NullFeedback:
    """Feedback that ignores everything; the default so callers never need ``if feedback``."""

    def set_progress(self, pct: float) -> None:
        pass

    def push_info(self, msg: str) -> None:
        pass

    def is_canceled(self) -> bool:
        return False


class RecordingFeedback:
    """Keeps every call, and can cancel after N progress reports (for tests and scripts)."""

    def __init__(self, cancel_after: int | None = None) -> None:
        self.progress: list[float] = []
        self.messages: list[str] = []
        self._cancel_after = cancel_after
        self.canceled = False

    def set_progress(self, pct: float) -> None:
        self.progress.append(float(pct))
        if self._cancel_after is not None and len(self.progress) >= self._cancel_after:
            self.canceled = True

    def push_info(self, msg: str) -> None:
        self.messages.append(msg)

    def is_canceled(self) -> bool:
        return self.canceled

    def cancel(self) -> None:
        self.canceled = True


class ScaledFeedback:
    """One step of a longer job: maps the step's 0..100 onto ``start``..``end`` of the
    whole, and passes messages and cancellation through (QGIS's QgsProcessingMultiStepFeedback)."""

    def __init__(self, parent: Feedback, start: float, end: float) -> None:
        self.parent, self.start, self.end = parent, start, end

    def set_progress(self, pct: float) -> None:
        self.parent.set_progress(self.start + (self.end - self.start) * float(pct) / 100.0)

    def push_info(self, msg: str) -> None:
        self.parent.push_info(msg)

    def is_canceled(self) -> bool:
        return self.parent.is_canceled()


def check_canceled(feedback: Feedback) -> None:
    """Raise :class:`CanceledError` if the user asked to stop; call it between work units."""
    if feedback.is_canceled():
        raise CanceledError("canceled by the user")
