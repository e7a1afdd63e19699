"""The package's one default propensity model and one propensity-clipping rule.

:mod:`survhte.metalearners`, :mod:`survhte.survival_metalearners` and
:class:`survhte.inference.AIPCW` all import :func:`default_propensity_model`,
:func:`check_clip` and :func:`clip_propensity` from here, so a change of default or of the
overlap warning reaches every estimator at once.
"""

from __future__ import annotations

import warnings
from numbers import Real
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import SplineTransformer

__all__ = ["check_clip", "clip_propensity", "default_propensity_model", "seeded_clone"]


def default_propensity_model() -> Pipeline:
    """Additive logistic regression for ``P(W = k | x)``: a cubic B-spline basis (5 knots) of
    each covariate, L2-penalised (``C=1``); multinomial for more than two levels.

    The propensity enters through ``1 / e(x)``, so calibration matters more than ranking: a
    logistic regression fitted on the log-loss is calibrated by construction, the splines
    capture smooth non-monotone shapes (OBS-CPS's Beta-density propensity), and the ridge
    penalty (on basis functions bounded by 1) keeps the fit away from the near-0/1
    probabilities that deep trees give in small folds. Smooth, fast and single-threaded.
    """
    return make_pipeline(SplineTransformer(n_knots=5, degree=3),
                         LogisticRegression(C=1.0, max_iter=1000))


def check_clip(clip: Any) -> float:
    """Validate ``propensity_clip``: a number in ``[0, 0.5)``."""
    if isinstance(clip, bool) or not isinstance(clip, Real) or not 0 <= clip < 0.5:
        raise ValueError(f"propensity_clip must be a number in [0, 0.5); got {clip!r}.")
    return float(clip)


def clip_propensity(probs: np.ndarray, clip: float, *,
                    consequence: str = "effects there lean on extrapolation",
                    stacklevel: int = 4) -> np.ndarray:
    """Clip propensities to ``[clip, 1 - clip]``; warn with the share of rows clipped.

    Parameters
    ----------
    probs : ndarray of shape (n,) or (n, K + 1)
        ``e(X_i) = P(W = 1 | X_i)``, or each level's ``P(W = k | X_i)`` (rows are renormalised
        to sum to 1 after clipping).
    clip : float
        In ``[0, 0.5)`` (see :func:`check_clip`).
    consequence : str
        Ends the warning: what the estimate leans on where overlap is poor.
    stacklevel : int
        Passed to :func:`warnings.warn`.

    Returns
    -------
    ndarray of the shape of ``probs``
    """
    outside = (probs < clip) | (probs > 1 - clip)
    clipped = outside if probs.ndim == 1 else np.any(outside, axis=1)
    if not clipped.any():
        return probs
    warnings.warn(
        f"propensity clipped to [{clip:g}, {1 - clip:g}] for {clipped.mean():.1%} of the rows "
        f"({int(clipped.sum())}): poor overlap; {consequence}.",
        UserWarning,
        stacklevel=stacklevel,
    )
    probs = np.clip(probs, clip, 1 - clip)
    if probs.ndim == 1:
        return probs
    return probs / probs.sum(axis=1, keepdims=True)


def seeded_clone(model: Any, seed: int) -> Any:
    """Unfitted clone of ``model``, seeded with ``seed`` if it has a ``random_state`` of None."""
    fresh = clone(model)
    if fresh.get_params(deep=False).get("random_state", 0) is None:
        fresh.set_params(random_state=seed)
    return fresh
