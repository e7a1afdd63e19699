"""Generalised propensity ``r_k(x) = P(W = k | x)`` of the X-, DR- and R-learners."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np

from .._propensity import clip_propensity, default_propensity_model, seeded_clone


def _known(spec: Any, codes: np.ndarray, n_levels: int) -> np.ndarray | None:
    """Per-level probabilities of a known design, shape (K + 1,); ``None`` for a model."""
    if isinstance(spec, str):
        if spec != "constant":
            raise ValueError(f"propensity_model as a string must be 'constant'; got {spec!r}.")
        return np.bincount(codes, minlength=n_levels) / codes.size
    if isinstance(spec, Real) and not isinstance(spec, bool):
        if n_levels != 2 or not 0 < spec < 1:
            raise ValueError(
                "propensity_model as a number is P(W = classes_[1]) of a binary treatment, in "
                f"(0, 1); got {spec!r} with {n_levels} levels."
            )
        return np.array([1 - float(spec), float(spec)])
    if isinstance(spec, (list, tuple, np.ndarray)):
        probs = np.asarray(spec, dtype=np.float64)
        if probs.shape != (n_levels,) or np.any(probs <= 0) or not np.isclose(probs.sum(), 1):
            raise ValueError(
                f"propensity_model as an array must hold {n_levels} positive probabilities "
                f"summing to 1 (one per level of classes_); got {probs.tolist()}."
            )
        return probs
    return None


def fit_propensity(spec: Any, X: np.ndarray, codes: np.ndarray, n_levels: int,
                   seed: int) -> Any:
    """A known level-probability vector of shape (K + 1,), or a classifier fitted on ``codes``.

    ``spec``: ``None`` (:func:`default_propensity_model`), a classifier with ``predict_proba``
    (cloned; seeded with ``seed`` if its ``random_state`` is ``None``), ``"constant"`` (the
    arms' shares of the rows: a randomised trial), a float (``P(W = classes_[1])`` of a binary
    trial) or an array of each level's probability.
    """
    known = _known(spec, codes, n_levels)
    if known is not None:
        return known
    model = default_propensity_model() if spec is None else spec
    if isinstance(model, type) or not hasattr(model, "predict_proba"):
        raise TypeError(
            "propensity_model must be None, a classifier with predict_proba, 'constant', a "
            f"probability or an array of level probabilities; got {model!r}."
        )
    return seeded_clone(model, seed).fit(X, codes)


def predict_propensity(fitted: Any, X: np.ndarray, n_levels: int) -> np.ndarray:
    """``r_k(x)`` of the rows of ``X`` from :func:`fit_propensity`'s result, shape (n, K + 1)."""
    if isinstance(fitted, np.ndarray):
        return np.tile(fitted, (X.shape[0], 1))
    columns = [list(fitted.classes_).index(level) for level in range(n_levels)]
    return fitted.predict_proba(X)[:, columns]


def propensity_matrix(spec: Any, X: np.ndarray, codes: np.ndarray, n_levels: int,
                      folds: list[tuple[np.ndarray, np.ndarray]], clip: float,
                      seed: int) -> np.ndarray:
    """Cross-fitted ``r_k(X_i)``, shape (n, K + 1): each fold's rows from the other folds.

    A known design (see :func:`fit_propensity`) is used as is; estimated probabilities are
    clipped by :func:`clip_propensity`.
    """
    known = _known(spec, codes, n_levels)
    if known is not None:
        return predict_propensity(known, X, n_levels)
    probs = np.empty((codes.size, n_levels))
    for train, test in folds:
        fitted = fit_propensity(spec, X[train], codes[train], n_levels, seed)
        probs[test] = predict_propensity(fitted, X[test], n_levels)
    return clip_propensity(probs, clip)
