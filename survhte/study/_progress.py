"""A plain-text progress line: done / total, failures, elapsed time and time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_seconds(seconds: float) -> str:
    """``3725.0`` -> ``"1h02m05s"``; ``65.0`` -> ``"1m05s"``; ``"?"`` for NaN."""
    if seconds != seconds:  # NaN
        return "?"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Progress:
    """Progress of the tasks of one run, written to a stream (stderr by default).

    On a terminal the line is redrawn in place; otherwise a line is written at most every
    ``interval`` seconds, and always for the last task. The estimate of time left is the
    elapsed time per finished task times the tasks left.

    Parameters
    ----------
    total : int
        Tasks to run in this session (already finished ones excluded).
    skipped : int
        Tasks found finished in the store.
    stream : text stream, optional
        Where to write; ``None`` writes nothing.
    interval : float, default 10
        Seconds between lines when ``stream`` is not a terminal.
    """

    def __init__(self, total: int, skipped: int = 0, stream: TextIO | None = sys.stderr,
                 interval: float = 10.0) -> None:
        self.total, self.skipped, self.stream, self.interval = total, skipped, stream, interval
        self.done = self.failed = 0
        self._start = self._last = time.perf_counter()
        self._tty = stream is not None and stream.isatty()

    def update(self, failed: bool = False) -> None:
        """Count one more finished task (``failed``: its method raised)."""
        self.done += 1
        self.failed += failed
        now = time.perf_counter()
        if self.stream is None:
            return
        if self._tty or now - self._last >= self.interval or self.done == self.total:
            self._last = now
            end = "\n" if self.done == self.total or not self._tty else ""
            self.stream.write(("\r" if self._tty else "") + self.line() + end)
            self.stream.flush()

    def line(self) -> str:
        """The current progress line."""
        elapsed = time.perf_counter() - self._start
        left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        width = 24
        filled = width * self.done // self.total if self.total else width
        parts = [
            f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} tasks",
            f"{100 * self.done / self.total:.0f}%" if self.total else "100%",
            f"elapsed {format_seconds(elapsed)}",
            f"left ~{format_seconds(left)}",
        ]
        if self.skipped:
            parts.append(f"{self.skipped} already done")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return ", ".join(parts)
