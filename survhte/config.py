"""Package-wide settings, as scikit-learn's ``set_config`` / ``config_context``, and the
progress line of long forest fits.

A core module (every package may import it; it imports only the standard library). The three
public functions are also importable from the top level: ``survhte.set_config``.

One setting so far: ``progress`` (bool, default False): long forest fits (tree growth, the
causal survival forest's score step) write their progress to stderr. Library use is silent by
default; the ``survhte estimate`` command turns it on. The setting is per thread (a fit started
in another thread sees the defaults), as scikit-learn's.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["config_context", "get_config", "set_config"]

_DEFAULTS: dict[str, Any] = {"progress": False}
_local = threading.local()

# Work shorter than this (seconds) prints nothing: a progress line appears only once a phase
# has run this long and is not yet finished.
PROGRESS_DELAY = 2.0


def _config() -> dict[str, Any]:
    if not hasattr(_local, "config"):
        _local.config = dict(_DEFAULTS)
    return _local.config


def get_config() -> dict[str, Any]:
    """The current settings (a copy): ``{"progress": bool}``.

    Examples
    --------
    >>> import survhte
    >>> survhte.get_config()
    {'progress': False}
    """
    return dict(_config())


def set_config(*, progress: bool | None = None) -> None:
    """Set package-wide settings for this thread (None: leave unchanged).

    Parameters
    ----------
    progress : bool, optional
        Whether forest fits that take more than a few seconds report trees grown / total and
        the estimated time left on stderr (one line rewritten in place on a terminal, a line
        every ~10% otherwise).

    Examples
    --------
    >>> import survhte
    >>> survhte.set_config(progress=False)
    >>> survhte.get_config()["progress"]
    False
    """
    if progress is not None:
        if not isinstance(progress, bool):
            raise TypeError(f"progress must be a bool, got {type(progress).__name__}.")
        _config()["progress"] = progress


@contextmanager
def config_context(*, progress: bool | None = None) -> Iterator[None]:
    """Settings of :func:`set_config` for the enclosed block only.

    Examples
    --------
    >>> import survhte
    >>> with survhte.config_context(progress=True):
    ...     survhte.get_config()["progress"]
    True
    """
    previous = get_config()
    set_config(progress=progress)
    try:
        yield
    finally:
        _config().update(previous)


@contextmanager
def progress_phase(name: str) -> Iterator[None]:
    """Name the enclosed phase of a fit in its progress lines (``"censoring forest"``);
    nested phases are joined by ``" / "``."""
    stack = _phases()
    stack.append(name)
    try:
        yield
    finally:
        stack.pop()


def _phases() -> list[str]:
    if not hasattr(_local, "phases"):
        _local.phases = []
    return _local.phases


def phase_label(default: str) -> str:
    """The label of a progress line: the enclosing phases, else ``default``."""
    stack = _phases()
    return " / ".join(stack) if stack else default


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """One phase's progress line: ``label: done/total unit, elapsed, ETA``.

    ``update(k)`` adds ``k`` finished items. Nothing is written before ``PROGRESS_DELAY``
    seconds; then, on a terminal, one line rewritten in place (``\\r``) at most every 0.2 s;
    otherwise (a log file) one line per 10% more done. ``close()`` ends the line (only if one
    was written). Disabled (``enabled=False``) it does nothing: the cost of an update is one
    attribute test.
    """

    def __init__(self, label: str, total: int, unit: str = "trees", *,
                 enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.label, self.total, self.unit = label, int(total), unit
        self.enabled = _config()["progress"] if enabled is None else enabled
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        self.start = time.perf_counter()
        self._written = False
        self._last_write = 0.0
        self._last_tenth = 0
        isatty = getattr(self.stream, "isatty", None)
        self._tty = bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"

    def update(self, count: int = 1) -> None:
        if not self.enabled:
            return
        self.done = min(self.total, self.done + int(count))
        now = time.perf_counter()
        elapsed = now - self.start
        if elapsed < PROGRESS_DELAY or self.total <= 0:
            return
        tenth = 10 * self.done // self.total
        if self._tty:
            if now - self._last_write < 0.2 and self.done < self.total:
                return
        elif tenth <= self._last_tenth and self._written:
            return
        self._last_tenth = tenth
        self._last_write = now
        self._write(elapsed)

    def chunk_callback(self, *, share: bool = False) -> Callable[[int, int], None] | None:
        """A callback for ``survhte._kernels._jit.chunk_callback`` (None when disabled):
        ``count`` finished items of ``n_items`` are ``count`` of this progress's items, or
        with ``share`` (one kernel call over the whole phase, e.g. blocks of rows) their
        share of ``total``."""
        if not self.enabled:
            return None
        if not share:
            return lambda count, n_items: self.update(count)
        finished = [0]

        def update_share(count: int, n_items: int) -> None:
            finished[0] += count
            self.update(finished[0] * self.total // n_items - self.done)

        return update_share

    def _write(self, elapsed: float) -> None:
        left = (elapsed * (self.total - self.done) / self.done) if self.done else float("nan")
        eta = _duration(left) if self.done else "?"
        line = (f"{self.label}: {self.done}/{self.total} {self.unit} "
                f"({100 * self.done // max(self.total, 1)}%), {_duration(elapsed)} elapsed, "
                f"ETA {eta}")
        if self._tty:
            self.stream.write("\r" + line + "\x1b[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._written = True

    def close(self) -> None:
        if not (self.enabled and self._written):
            return
        if self._tty:
            self._write(time.perf_counter() - self.start)
            self.stream.write("\n")
        elif self._last_tenth < 10 * self.done // max(self.total, 1):
            self._write(time.perf_counter() - self.start)
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
