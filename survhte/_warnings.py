"""Warnings that point at the user's line, however deep inside survhte they are raised."""

from __future__ import annotations

import importlib
import sys
import warnings


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


def moved(old: str, new: str, name: str) -> object:
    """Attribute ``name`` of module ``new``, with a ``DeprecationWarning`` that ``old`` (a
    renamed module kept as an alias) will go away."""
    if name.startswith("__"):
        raise AttributeError(name)
    value = getattr(importlib.import_module(new), name)
    warnings.warn(f"{old} was renamed: import {name} from {new} (or from survhte) instead.",
                  DeprecationWarning, stacklevel=user_stacklevel())
    return value
