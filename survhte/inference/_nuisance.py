"""Nuisance models of the AIPCW estimator: propensity, outcome and censoring per fold."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier

from .._nuisance import default_propensity_model
from ..survival import CoxPH, KaplanMeierSurvival, SurvivalModel


def propensity_scores(spec: Any, X_train: np.ndarray, w_train: np.ndarray,
                      X_eval: np.ndarray) -> np.ndarray:
    """``P(W = 1 | x)`` of the evaluation rows from a model fitted on the training rows.

    ``spec``: ``None`` (:func:`default_propensity_model`), a classifier with ``predict_proba``,
    a float in (0, 1) (a known constant) or ``"constant"`` (the training rows' treated share).
    """
    if isinstance(spec, str):
        if spec != "constant":
            raise ValueError(f"propensity_model string must be 'constant'; got {spec!r}.")
        return np.full(X_eval.shape[0], w_train.mean())
    if isinstance(spec, (float, np.floating)) and not isinstance(spec, bool):
        if not 0 < spec < 1:
            raise ValueError(f"a constant propensity_model must be in (0, 1); got {spec!r}.")
        return np.full(X_eval.shape[0], float(spec))
    model = default_propensity_model() if spec is None else spec
    if not (is_classifier(model) or hasattr(model, "predict_proba")):
        raise TypeError(
            "propensity_model must be None, a classifier with predict_proba, a float or "
            f"'constant'; got {type(model).__name__}."
        )
    fitted = clone(model).fit(X_train, w_train)
    return fitted.predict_proba(X_eval)[:, list(fitted.classes_).index(1)]


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
