"""Warnings that point at the user's line, however deep inside survhte they are raised."""

from __future__ import annotations

import sys


def user_stacklevel() -> int:
    """``stacklevel`` for a ``warnings.warn`` in the calling function that attributes the
    warning to the first frame outside the survhte package (the user's call), whichever
    internal path (a binary fit, or one level of a multi-level fit) raised it."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("survhte."):
        frame = frame.f_back
        level += 1
    return level
