"""Deprecated alias of :mod:`survhte.imputed_learners` (renamed: learners on an imputed outcome).

``from survhte.metalearners import TLearner`` still works and warns; import from
:mod:`survhte.imputed_learners` or the top level (``from survhte import TLearner``) instead.
"""

from __future__ import annotations

from typing import Any

from ._warnings import moved


def __getattr__(name: str) -> Any:
    return moved(__name__, "survhte.imputed_learners", name)
