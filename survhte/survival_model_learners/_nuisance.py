"""Cross-fitted nuisances of the X-, M- and R-learners: folds, propensity, censoring weights,
arm outcome means, and the complete-case outcome ``f(T)`` at the horizon.

Conventions follow survlearners (Xu et al. 2023): the outcome ``f(T)`` (``min(T, h)`` for RMST,
``1{T > h}`` for survival) is known for rows with an event or followed to ``h``; those rows get
the inverse-probability-of-censoring weight ``1 / G(min(Y, h)- | x, w)``, the others weight 0.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier

from .._nuisance import CENSORING_FLOOR, PROPENSITY_CLIP, clip_propensity
from ..survival import arm_summary, check_survival_model, survival_at_rows
from ._fitting import fit_curves
from ._slearner import with_treatment


def check_binary(classes: np.ndarray, learner: str) -> None:
    """Raise ``ValueError`` naming ``w`` when the treatment has more than two levels."""
    if classes.size != 2:
        raise ValueError(
            f"w has {classes.size} levels {classes.tolist()}; {learner} handles a binary "
            "treatment only (use SurvivalTLearner or SurvivalSLearner for more levels)."
        )


def known_outcome(time: np.ndarray, event: np.ndarray, target: str, horizon: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``f(Y)`` and whether it equals ``f(T)``: rows with an event or followed up to ``h``.

    Returns
    -------
    outcome : ndarray of shape (n,)
        ``min(Y, h)`` (``"rmst"``) or ``1{Y > h}`` (``"survival"``); meaningful where known.
    known : ndarray of bool, shape (n,)
    """
    known = event | (time >= horizon)
    if target == "rmst":
        return np.minimum(time, horizon), known
    return (time > horizon).astype(np.float64), known


def censoring_weights(model: Any, X: np.ndarray, codes: np.ndarray, time: np.ndarray,
                      event: np.ndarray, horizon: float, folds: list) -> np.ndarray:
    """Cross-fitted ``known_i / max(G(min(Y_i, h)- | x_i, w_i), CENSORING_FLOOR)``.

    ``G(t | x, w) = P(C > t | x, w)`` is ``model`` fitted on ``(X, W)`` with the censorings as
    events, on the other folds. Ties follow the Kaplan-Meier convention (events before
    censorings): for the censoring fit, event rows leave the risk set just before their time.
    """
    check_survival_model(model, "censoring_model")
    n_levels = int(codes.max()) + 1
    design = with_treatment(X, codes, n_levels)
    censored = ~event
    if not censored.any():
        return np.ones(time.size)
    exit_time = np.where(event, np.nextafter(time, -np.inf).clip(0.0), time)
    at = np.minimum(time, horizon)
    g = np.ones(time.size)
    for train, test in folds:
        if not censored[train].any():
            continue  # no censoring seen: G = 1 on this fold
        fitted = fit_curves(model, design[train], exit_time[train], censored[train],
                            "censoring_model")
        g[test] = survival_at_rows(fitted, design[test], at[test], left=True)
    _, known = known_outcome(time, event, "rmst", horizon)
    return known / np.maximum(g, CENSORING_FLOOR)


def propensity_scores(model: Any, X: np.ndarray, codes: np.ndarray, folds: list) -> np.ndarray:
    """Cross-fitted ``e(x) = P(W = 1 | x)``, clipped; a number is a known constant propensity."""
    if isinstance(model, Real) and not isinstance(model, bool):
        if not 0 < model < 1:
            raise ValueError(f"propensity_model as a number must be in (0, 1); got {model!r}.")
        return np.full(codes.size, float(model))
    if not (is_classifier(model) and hasattr(model, "predict_proba")):
        raise TypeError(
            "propensity_model must be a scikit-learn classifier with predict_proba or a "
            f"probability in (0, 1); got {type(model).__name__}."
        )
    scores = np.empty(codes.size)
    for train, test in folds:
        scores[test] = clone(model).fit(X[train], codes[train]).predict_proba(X[test])[:, 1]
    return clip_propensity(scores, PROPENSITY_CLIP, stacklevel=5)


def arm_outcomes(base: Any, X: np.ndarray, time: np.ndarray, event: np.ndarray,
                 codes: np.ndarray, target: str, horizon: float, folds: list) -> np.ndarray:
    """Cross-fitted ``E[f(T(w)) | x]`` for ``w = 0, 1``, one ``base`` model per arm and fold.

    Returns
    -------
    ndarray of shape (n, 2)
    """
    out = np.empty((codes.size, 2))
    for train, test in folds:
        for code in (0, 1):
            rows = train[codes[train] == code]
            model = fit_curves(base, X[rows], time[rows], event[rows])
            out[test, code] = arm_summary(model, X[test], target, horizon)
    return out
