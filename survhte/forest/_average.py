"""Doubly robust average effects of the causal forests (grf's ``average_treatment_effect``).

One helper, :func:`average_effect`, serves :class:`~survhte.forest.CausalForest` and
:class:`~survhte.forest.CausalSurvivalForest`, as grf's one function serves its causal and
causal survival forests. A two-level forest provides

- ``oob_prediction_`` (out-of-bag ``tau_i``), ``w_hat_`` (``e_i``), ``_treated`` (``W_i``),
  ``_weight`` (case weights) and ``_codes`` (treatment codes of its rows);
- ``_correction(tau)``: the AIPW correction ``(W_i - e_i) / (e_i (1 - e_i)) R_i(tau)``;
- ``_residual(tau)``: the outcome residual ``R_i(tau)``, observed minus fitted
  ``E[Y | X_i, W_i]`` (for the causal survival forest, of the censoring-adjusted transformed
  outcome ``psi_i / (W_i - e_i)``).

With K > 1 treated levels the estimator holds one two-level forest per level
(``arm_forests_``, see :mod:`survhte.forest._levels`).

Populations (:func:`survhte._base.population_rows`): ``"all"`` (the AIPW mean of
``Gamma_i = tau_i + correction_i``); ``"treated"``, the effect of level ``k`` on the rows that
received ``k``; ``"control"``, on the control rows: grf's ``target.sample`` "treated" and
"control", the mean ``tau`` over those rows plus a normalised inverse-propensity correction of
the residuals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._base import population_rows


def fill_missing(tau: np.ndarray) -> np.ndarray:
    """Out-of-bag effects with the rows that no tree left out (NaN) set to their column's
    mean."""
    return np.where(np.isfinite(tau), tau, np.nanmean(tau, axis=0))


def weighted_mean_and_se(values: np.ndarray, weight: np.ndarray) -> tuple[Any, Any]:
    """Weighted mean of ``values`` (over rows) and grf's standard error of it,
    ``sqrt(sum w_i^2 (v_i - mean)^2 / (sum w_i)^2 n / (n - 1))``."""
    n = values.shape[0]
    center = np.average(values, axis=0, weights=weight)
    spread = (np.sum(weight.reshape((n,) + (1,) * (values.ndim - 1)) ** 2 * (values - center) ** 2,
                     axis=0) / weight.sum() ** 2 * n / (n - 1))
    return center, np.sqrt(spread)


def level_scores(forest: Any) -> np.ndarray:
    """Doubly robust scores of every training row for each treated level, (n, K):
    ``tau_k(X_i)`` (out of bag where level ``k``'s forest saw the row) plus, on the rows
    of levels 0 and ``k``, that forest's correction divided by ``e_0 + e_k`` (so that
    ``1 / e_k`` weights the rows of level ``k``: the multi-arm AIPW score of grf's
    ``multi_arm_causal_forest``; Imbens 2000)."""
    scores = fill_missing(forest.oob_prediction_)
    for k, (arm, rows) in enumerate(zip(forest._arms, forest._arm_rows, strict=True)):
        pair = forest.w_hat_[rows][:, [0, k + 1]].sum(axis=1)
        scores[rows, k] += arm._correction(scores[rows, k]) / pair
    return scores


def _on_population(forest: Any, tau: np.ndarray, target: np.ndarray, on_treated: bool
                   ) -> tuple[float, float]:
    """Average effect of a two-level fit over the ``target`` rows (the treated with
    ``on_treated``, else the controls): ``E[tau(X) | target]`` plus the normalised IPW
    correction of the residuals, the target rows weighted 1 and the others by the odds of
    being a target row, ``e / (1 - e)`` or ``(1 - e) / e`` (grf's ``average_treatment_effect``
    with ``target.sample``; grf #1508). Standard error: grf's."""
    e, weight = forest.w_hat_, forest._weight
    residual = forest._residual(tau)
    t = forest._treated == 1
    tw = weight[target]
    raw = float(np.average(tau[target], weights=tw))
    raw_var = float(np.sum(tw**2 * (tau[target] - raw) ** 2) / tw.sum() ** 2)
    gamma = np.where(t, 1.0, e / (1 - e)) if on_treated else np.where(t, (1 - e) / e, 1.0)
    total = weight.sum()
    gamma = np.where(t, gamma / np.sum(weight[t] * gamma[t]),
                     gamma / np.sum(weight[~t] * gamma[~t])) * total
    correction_all = np.where(t, gamma * residual, -gamma * residual)
    correction, spread = weighted_mean_and_se(correction_all, weight)
    return raw + correction, float(np.sqrt(raw_var + spread**2))


def average_effect(forest: Any, population: str) -> tuple[np.ndarray, np.ndarray]:
    """Doubly robust average effect of each treated level vs control over ``population``
    and its standard error, each of shape (K,).

    ``"all"``: the weighted mean of the AIPW scores (two levels:
    ``Gamma_i = tau_i + correction_i(tau_i)``; K levels: :func:`level_scores`). ``"treated"``
    and ``"control"``: per level, its two-level forest's average on the rows of level ``k``
    (resp. the control rows), which are the rows of that population among all rows.
    """
    rows = population_rows(forest._codes, population)
    arms = forest._arms
    if arms is None:
        tau = fill_missing(forest.oob_prediction_)
        if population == "all":
            center, se = weighted_mean_and_se(tau + forest._correction(tau), forest._weight)
        else:
            center, se = _on_population(forest, tau, rows[:, 0], population == "treated")
        return np.atleast_1d(center), np.atleast_1d(se)
    if population == "all":
        return weighted_mean_and_se(level_scores(forest), forest._weight)
    parts = [average_effect(arm, population) for arm in arms]
    return (np.concatenate([center for center, _ in parts]),
            np.concatenate([se for _, se in parts]))
