"""survhte: heterogeneous treatment effects on censored survival outcomes.

Estimators follow one scikit-learn style contract (``fit(X, y, w)``, ``predict``, ``ate``);
see ``docs/architecture.md``. Public names are importable from the top level and load their
module on first use, so ``import survhte`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0.dev0"

_EXPORTS = {
    "KaplanMeier": "survhte.survival",
    "NelsonAalen": "survhte.survival",
    "rmst_difference": "survhte.survival",
    "SurvivalTLearner": "survhte.survival_metalearners",
    "CoxPH": "survhte.survival_metalearners",
    "survhte_bench": "survhte.simulate",
    "load_rossi": "survhte.datasets",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'survhte' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
