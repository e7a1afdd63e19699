"""Deprecated alias of :mod:`survhte.survival_model_learners` (learners on survival models);
the base survival models (``CoxPH``, ``WeibullAFT``, ...) now live in :mod:`survhte.survival`.

Old imports still work and warn; import from the new homes or the top level instead.
"""

from __future__ import annotations

from typing import Any

from ._warnings import moved


def __getattr__(name: str) -> Any:
    if name in {"CoxPH", "KaplanMeierSurvival", "LifelinesSurvivalModel", "SurvivalModel",
                "TransformedSurvivalModel", "WeibullAFT"}:
        return moved(__name__, "survhte.survival", name)
    return moved(__name__, "survhte.survival_model_learners", name)
