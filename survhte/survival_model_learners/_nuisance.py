"""Cross-fitted nuisances of the X-, M- and R-learners: pair propensities, censoring weights,
arm outcome means, and the complete-case outcome ``f(T)`` at the horizon (the propensity
specification, folds, clipping rule and censoring floor are :mod:`survhte._nuisance`'s).

Conventions follow survlearners (Xu et al. 2023): the outcome ``f(T)`` (``min(T, h)`` for RMST,
``1{T > h}`` for survival) is known for rows with an event or followed to ``h``; those rows get
the inverse-probability-of-censoring weight ``1 / G(min(Y, h)- | x, w)``, the others weight 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._nuisance import CENSORING_FLOOR, clip_propensity
from .._warnings import user_stacklevel
from ..survival import arm_summary, survival_at_rows
from ._fitting import fit_curves
from ._slearner import with_treatment


def pair_propensities(probs: np.ndarray, clip: float | None) -> np.ndarray:
    """Propensity of level ``k`` among the rows of levels ``{0, k}``, ``e_k / (e_0 + e_k)``,
    shape (n, K), from every level's ``e`` of shape (n, K + 1).

    Estimated propensities are clipped to ``[clip, 1 - clip]`` by the one rule of
    :func:`survhte._nuisance.clip_propensity` (which warns with the share of rows clipped):
    ``e_1`` of a binary treatment; every level's ``e`` for K > 1 (rows renormalised) before
    the pairs are formed. ``clip=None``: a known design, used as is. The warning points at
    the user's line.
    """
    stacklevel = user_stacklevel() + 1  # clip_propensity's frame is one below this one
    if probs.shape[1] == 2:
        share = probs[:, 1]
        return (share if clip is None else clip_propensity(share, clip,
                                                           stacklevel=stacklevel))[:, None]
    if clip is not None:
        probs = clip_propensity(probs, clip, stacklevel=stacklevel)
    return probs[:, 1:] / (probs[:, [0]] + probs[:, 1:])


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


def arm_outcomes(base: Any, X: np.ndarray, time: np.ndarray, event: np.ndarray,
                 codes: np.ndarray, target: str, horizon: float, folds: list) -> np.ndarray:
    """Cross-fitted ``E[f(T(w)) | x]`` for every level ``w``, one ``base`` model per arm and
    fold.

    Returns
    -------
    ndarray of shape (n, K + 1)
    """
    n_levels = int(codes.max()) + 1
    out = np.empty((codes.size, n_levels))
    for train, test in folds:
        for code in range(n_levels):
            rows = train[codes[train] == code]
            model = fit_curves(base, X[rows], time[rows], event[rows])
            out[test, code] = arm_summary(model, X[test], target, horizon)
    return out
