"""Nuisances of the causal forests: the propensity (both forests), the overlap check, and the
event and censoring survival models of the causal survival forest.

The propensity specification is :mod:`survhte._nuisance`'s (the one of every family):
``None`` gives the forests' own default, grf's out-of-bag regression forest of the treatment
(one per level indicator for more than two levels, rows normalised to sum 1); ``"constant"``,
a probability or an array of each level's probability is a known design; a classifier with
``predict_proba`` is cross-fitted (:func:`survhte._nuisance.fit_propensity`). The forests also
take known per-row probabilities (grf's ``W.hat``): shape (n,) for two levels, (n, K + 1).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._nuisance import (
    NUISANCE_CONSTRAINTS,
    check_level_probabilities,
    fit_propensity,
    make_folds,
    predict_propensity,
)
from .._params import InstanceOf
from .._warnings import user_stacklevel
from ..config import progress_phase
from ..survival import check_survival_model
from ._base import UnsplitForestWarning
from ._regression import RegressionForest
from ._survival import SurvivalForest

#: Accepted forms of the forests' ``propensity_model`` (checked at ``fit``).
PROPENSITY_FORMS: list[Any] = [*NUISANCE_CONSTRAINTS["propensity_model"],
                                InstanceOf((pd.Series, pd.DataFrame))]
#: Overlap warning bounds: grf's ``average_treatment_effect`` warns below 0.05 / above 0.95.
OVERLAP_BOUND = 0.05


def indicator_propensities(X: np.ndarray, codes: np.ndarray, weight: np.ndarray, seed: int,
                           make_forest: Callable[[int], RegressionForest]) -> np.ndarray:
    """``P(W = level | X_i)`` of every level: out-of-bag regression forests
    (``make_forest(seed)``) of the level indicators, each row normalised to sum 1."""
    levels = int(codes.max()) + 1
    seeds = np.random.default_rng(seed).integers(0, 2**32, size=levels)
    shares = np.column_stack([
        make_forest(int(level_seed)).fit(X, (codes == level).astype(np.float64),
                                         sample_weight=weight).oob_prediction_
        for level, level_seed in enumerate(seeds)
    ])
    return shares / shares.sum(axis=1, keepdims=True)


def _per_row(spec: Any, n: int, levels: int) -> np.ndarray | None:
    """Known per-row probabilities (shape (n,) of ``P(W = 1)`` for two levels, or
    (n, levels)) as (n, levels); ``None`` for any other specification."""
    if isinstance(spec, (str, bytes)) or hasattr(spec, "predict_proba") \
            or not isinstance(spec, (list, tuple, np.ndarray, pd.Series, pd.DataFrame)):
        return None
    values = np.asarray(spec, dtype=np.float64)
    if values.shape == (levels,) and n != levels:
        return None  # each level's probability: survhte._nuisance's known design
    if levels == 2 and values.ndim == 1:
        if values.shape != (n,):
            raise ValueError(f"propensity_model as an array of P(W = classes_[1] | X_i) must "
                             f"have shape ({n},); got {values.shape}.")
        if not np.all((values > 0) & (values < 1)):
            raise ValueError("propensity_model must lie strictly between 0 and 1.")
        return np.column_stack([1 - values, values])
    return check_level_probabilities(values, n, levels, "propensity_model")


def forest_propensities(spec: Any, X: np.ndarray, codes: np.ndarray, classes: np.ndarray,
                        weight: np.ndarray, seed: int, seed_folds: int, n_folds: int,
                        make_forest: Callable[[int], RegressionForest]) -> np.ndarray:
    """``P(W = level | X_i)`` of each training row and level, shape (n, levels).

    ``spec`` (``propensity_model``): ``None``, out-of-bag regression forests
    ``make_forest(seed)`` (grf's ``W.hat``: one forest of ``W`` for two levels, else one per
    level indicator, rows normalised to sum 1); a classifier with ``predict_proba``:
    cross-fitted over ``n_folds`` folds stratified by arm (seeded ``seed_folds``; 1: fitted
    and evaluated on all rows); known per-row probabilities as given; otherwise the known
    design of :func:`survhte._nuisance.fit_propensity` (``"constant"``, a probability, each
    level's probability).
    """
    n, levels = X.shape[0], classes.size
    if spec is None:
        with progress_phase("propensity forest"):
            if levels > 2:
                return indicator_propensities(X, codes, weight, seed, make_forest)
            e = make_forest(seed).fit(X, codes.astype(np.float64),
                                      sample_weight=weight).oob_prediction_
        return np.column_stack([1 - e, e])
    known = _per_row(spec, n, levels)
    if known is not None:
        return known
    if not hasattr(spec, "predict_proba"):
        return predict_propensity(fit_propensity(spec, X, codes, levels, seed), X, levels)
    probs = np.empty((n, levels))
    for train, test in make_folds(codes, n_folds, seed_folds, classes):
        fitted = fit_propensity(spec, X[train], codes[train], levels, seed)
        probs[test] = predict_propensity(fitted, X[test], levels)
    return probs


def check_overlap(probs: np.ndarray, codes: np.ndarray, classes: np.ndarray, who: str) -> None:
    """Refuse a propensity of 0 or 1, warn below ``OVERLAP_BOUND`` (0.05) or above
    ``1 - OVERLAP_BOUND`` (grf's rule: its ``average_treatment_effect`` warns the same).

    Both messages give the numbers: the share of rows concerned (per treated level, the
    treated level of a binary treatment: below 0.05 and above 0.95) and the smallest arm's
    size. A propensity of exactly 0 or 1 (an out-of-bag forest of a tiny arm, or given) leaves
    the doubly robust scores, which divide by ``e (1 - e)``, undefined: ``ValueError``.
    """
    n, labels = codes.size, classes.tolist()
    counts = np.bincount(codes, minlength=classes.size)
    small = int(np.argmin(counts))
    arm = f"the smallest arm, {labels[small]!r}, has {int(counts[small])} of {n} rows"
    degenerate = np.any((probs <= 0) | (probs >= 1), axis=1)
    if degenerate.any():
        raise ValueError(
            f"{who}: the propensity of some level is 0 or 1 for {degenerate.mean():.1%} of the "
            f"rows ({int(degenerate.sum())}); {arm}. Overlap fails there: the doubly robust "
            "scores divide by e(x) (1 - e(x)). Collect more rows of that arm, restrict the "
            "rows to those with overlap, or give a propensity_model strictly inside (0, 1)."
        )
    low, high = probs < OVERLAP_BOUND, probs > 1 - OVERLAP_BOUND
    if not (low.any() or high.any()):
        return
    levels = range(1, classes.size) if classes.size == 2 else range(classes.size)
    shares = "; ".join(
        f"P(W = {labels[k]!r} | X) below {OVERLAP_BOUND:g} for {low[:, k].mean():.1%} of the "
        f"rows and above {1 - OVERLAP_BOUND:g} for {high[:, k].mean():.1%}"
        for k in levels)
    warnings.warn(
        f"{who}: poor overlap: estimated propensity {shares}; {arm}. Where a propensity is "
        "near 0 or 1 the CATE extrapolates from the other arm and the doubly robust average "
        "effects divide by it (they may leave the outcome's range): restrict the rows to "
        "those with overlap, or collect more rows of the small arm.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


class SurvivalNuisance:
    """A fitted survival nuisance on ``(X, W)`` and its held-out curves on blocks of rows.

    ``fold_of is None``: one survival forest, out of bag (grf); otherwise one model per
    cross-fitting fold and ``fold_of[i]`` the fold holding row ``i`` out.
    """

    def __init__(self, fitted: Any, fold_of: np.ndarray | None) -> None:
        self.fitted = fitted
        self.fold_of = fold_of

    def curves(self, X: np.ndarray, w: np.ndarray, block: slice, times: np.ndarray
               ) -> np.ndarray:
        """Held-out curves at ``times`` of training rows ``block`` with treatment ``w``.

        Forest: row ``i`` uses only the trees whose subsample left training row ``i`` out
        (:meth:`SurvivalForest.predict_survival_oob`), at the treatment ``w`` (observed or
        counterfactual); a row that every tree used (NaN) gets the all-trees curve.
        Plug-in: each row from the model of the fold that held it out.
        """
        Xw = np.column_stack([X[block], w])
        if self.fold_of is None:
            model = self.fitted
            rows = np.arange(block.start, block.stop, dtype=np.int64)
            out = model.predict_survival_oob(Xw, rows, times)
            missing = np.isnan(out).any(axis=1)
            if missing.any():
                out[missing] = model.predict_survival(Xw[missing], times)
            return out
        out = np.empty((Xw.shape[0], times.size))
        folds = self.fold_of[block]
        for fold, model in enumerate(self.fitted):
            mine = folds == fold
            if mine.any():
                out[mine] = model.predict_survival(Xw[mine], times)
        return out


def fit_survival_nuisance(spec: Any, name: str, X: np.ndarray, treated: np.ndarray,
                          time: np.ndarray, event: np.ndarray, weight: np.ndarray | None,
                          default: SurvivalForest, seed_folds: int, n_folds: int,
                          classes: np.ndarray) -> SurvivalNuisance:
    """Fit a survival nuisance on ``(X, W)`` (``W`` the last column, or the last K columns:
    ``treated`` of shape (n, K) holds level indicators): ``default`` (a survival
    forest; out-of-bag curves, case weights ``weight``) when ``spec`` is None, else ``spec``
    cross-fitted over ``n_folds`` folds stratified by arm and event (out-of-fold curves,
    unweighted; ``classes`` name an arm too small for the folds)."""
    Xw = np.column_stack([X, treated])
    if spec is None:
        with warnings.catch_warnings(), progress_phase(f"{name.split('_')[0]} survival forest"):
            # An unsplit censoring forest is the pooled censoring curve, as an analysis of a
            # trial assumes; the event forest's is reported by the estimator's ``fit``.
            warnings.simplefilter("ignore", UnsplitForestWarning)
            default.fit(Xw, time, event, sample_weight=weight)
        return SurvivalNuisance(default, None)
    check_survival_model(spec, name)
    if treated.ndim == 1:
        codes = treated.astype(np.int64)
    else:  # level indicators (n, K): code k where column k - 1 is 1
        codes = (treated @ np.arange(1, treated.shape[1] + 1)).astype(np.int64)
    folds = make_folds(codes, n_folds, seed_folds, classes, strata=2 * codes + event)
    fold_of = np.empty(X.shape[0], dtype=np.int64)
    models = []
    for fold, (train, test) in enumerate(folds):
        models.append(clone(spec).fit(Xw[train], time[train], event[train]))
        fold_of[test] = fold
    return SurvivalNuisance(models, fold_of)
