"""Stacking and calibration of out-of-fold CATE predictions on doubly robust scores.

Pure array functions (no fitting of members), so that the combination rules can be studied on
stored out-of-fold predictions (``benchmarks/ensemble_survhte_bench.py``).

Notation, for one treated level: ``P`` (n, J) the members' out-of-fold CATE predictions,
``g`` (n,) the doubly robust (AIPCW) scores, ``E[g | X] = tau(X)``; ``fold`` (n,) each row's
held-out fold. The DR loss of a predictor ``t`` is ``mean((g - t)^2)``: its expectation is the
MSE against the true CATE plus a constant (the scores' noise), so differences of DR losses
estimate differences of CATE MSEs (Kennedy 2023; Nie & Wager 2021's R-loss is the
residualised analogue).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

from .._calibration import blp_slope

#: ``combine`` values: non-negative stacking, stacking on the simplex (weights summing to 1),
#: the members' plain average, or the single member of least DR loss.
COMBINE = ("stack", "convex", "mean", "select")
#: ``calibration`` values: the held-out BLP slope only when heterogeneity is detected
#: (one-sided test at ``test_level``; else the constant ATE), the slope shrunk by its
#: t-statistic, always the slope, or no slope at all.
CALIBRATION = ("test", "shrink", "slope", "none")


@dataclass
class Combination:
    """The combination of one treated level.

    ``weights`` (J,): non-negative member weights (before the slope); ``slope``: the held-out
    BLP slope of the scores on the stacked prediction, unclipped; ``std_error``, ``p_value``:
    its heteroscedasticity-robust standard error and one-sided p-value (H0: slope <= 0);
    ``factor``: the slope applied (``clip(slope, 0, 1)``; 0 when the test fails under
    ``calibration="test"``; times ``(1 - 1/t^2)_+`` under ``"shrink"``); ``held_out``: the
    held-out stacked prediction of each row (centred, before the slope).
    """

    weights: np.ndarray
    slope: float
    std_error: float
    p_value: float
    factor: float
    held_out: np.ndarray


def dr_losses(P: np.ndarray, g: np.ndarray) -> np.ndarray:
    """DR loss ``mean((g - P_j)^2)`` of each column of ``P`` (n, J), shape (J,)."""
    return np.mean((g[:, None] - P) ** 2, axis=0)


def member_weights(P: np.ndarray, g: np.ndarray, combine: str) -> np.ndarray:
    """Weights (J,) of the centred members: ``"stack"`` minimises
    ``sum((g - mean g - (P - mean P) w)^2)`` over ``w >= 0`` (non-negative least squares,
    Breiman 1996's stacked regression with the ATE as intercept); ``"convex"`` the same over
    ``w >= 0, sum(w) = 1`` (the super learner's simplex; the scale is left to the calibration
    slope); ``"mean"``: ``1 / J`` each (no fit to the scores); ``"select"`` puts weight 1 on
    the member of least DR loss, or none at all when the constant (the mean score) has less."""
    if P.shape[1] == 0:
        return np.zeros(0)
    if combine == "mean":
        return np.full(P.shape[1], 1.0 / P.shape[1])
    if combine == "select":
        losses = dr_losses(P, g)
        best = int(np.argmin(losses))
        weights = np.zeros(P.shape[1])
        if losses[best] < np.mean((g - g.mean()) ** 2):
            weights[best] = 1.0
        return weights
    centred = P - P.mean(axis=0)
    scale = np.sqrt(np.mean(centred ** 2, axis=0))
    usable = scale > 1e-12 * max(1.0, float(np.max(np.abs(P))))
    weights = np.zeros(P.shape[1])
    if not usable.any():
        return weights
    design, target = centred[:, usable], g - g.mean()
    if combine == "convex":
        # sum(w) = 1 as a heavily weighted extra row of the least-squares problem.
        penalty = 1e3 * np.sqrt(g.size) * max(1.0, float(np.max(np.abs(design))))
        design = np.vstack([design, np.full((1, design.shape[1]), penalty)])
        target = np.append(target, penalty)
        weights[usable], _ = nnls(design, target)
        return weights
    solution, _ = nnls(design / scale[usable], target)
    weights[usable] = solution / scale[usable]
    return weights


def combine_level(P: np.ndarray, g: np.ndarray, fold: np.ndarray, *, combine: str = "stack",
                  calibration: str = "test", test_level: float = 0.05) -> Combination:
    """Weights on all rows, and the slope from a second cross-fitting of the weights.

    For each fold ``v`` the weights are fitted on the rows of the other folds and applied to the
    centred predictions of fold ``v`` (centred at the other folds' means), so that every row's
    stacked prediction ``s_i`` is held out from the weights too; the slope is the BLP of ``g``
    on ``s``.
    """
    weights = member_weights(P, g, combine)
    held_out = np.full(g.size, np.nan)
    for v in np.unique(fold):
        test, train = fold == v, fold != v
        w_v = member_weights(P[train], g[train], combine)
        held_out[test] = (P[test] - P[train].mean(axis=0)) @ w_v
    slope, std_error, p_value = blp_slope(held_out, g)
    if calibration == "none":
        factor = 1.0
    elif calibration == "test" and not p_value < test_level:
        factor = 0.0
    else:
        factor = float(np.clip(slope, 0.0, 1.0))
        if calibration == "shrink" and factor > 0:
            # Positive-part James-Stein on the slope: b (1 - 1/t^2)_+, t = b / se.
            factor *= max(0.0, 1.0 - (std_error / slope) ** 2)
    if not weights.any():
        factor = 0.0
    return Combination(weights, slope, std_error, p_value, factor, held_out)
