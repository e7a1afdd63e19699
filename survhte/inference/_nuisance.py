"""Outcome model of the AIPCW estimator (propensities and folds: :mod:`survhte._nuisance`)."""

from __future__ import annotations

from typing import Any

from sklearn.base import clone

from ..survival import CoxPH, KaplanMeierSurvival, SurvivalModel


def outcome_model(spec: Any) -> Any:
    """Unfitted survival model of ``S(t | x)`` in one arm: CoxPH, KM (``"km"``) or ``spec``."""
    if spec is None:
        return CoxPH()
    if isinstance(spec, str) and spec == "km":
        return KaplanMeierSurvival()
    if isinstance(spec, str) or not isinstance(spec, SurvivalModel):
        raise TypeError(
            "outcome_model must be None, 'km' or a survival model with fit(X, time, event), "
            f"predict_survival(X, times) and unique_times_; got {spec!r}."
        )
    return clone(spec)
