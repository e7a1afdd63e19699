"""Shared plumbing of survhte's CATE estimators: fit-time validation, horizon, ATE, bootstrap.

Subclasses set the parameters ``target``, ``horizon``, ``n_bootstrap`` and ``random_state`` in
their ``__init__`` and implement

- ``_fit_core(X, time, event, w_codes)``: fit on validated arrays (``classes_``, ``horizon_``
  and ``n_features_in_`` are already set);
- ``_predict_core(X) -> ndarray (n, K)``: effect of each treated level vs control
  (``effect`` contrasts any two levels from it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._validation import (
    check_covariates,
    check_horizon,
    check_target,
    default_horizon,
    validate_fit_inputs,
)


def _squeeze(effects: np.ndarray) -> np.ndarray | float:
    """(n, 1) -> (n,) and (1,) -> float for a binary treatment; unchanged for K > 1 levels."""
    if effects.shape[-1] != 1:
        return effects
    return float(effects[0]) if effects.ndim == 1 else effects[:, 0]


def level_code(classes: np.ndarray, level: Any, name: str) -> int:
    """Position of treatment label ``level`` (argument ``name``) in ``classes``."""
    matches = np.flatnonzero(classes == level)
    if matches.size != 1:
        raise ValueError(
            f"{name}={level!r} is not a treatment level; levels are {classes.tolist()}."
        )
    return int(matches[0])


def contrast_codes(classes: np.ndarray, t0: Any, t1: Any) -> tuple[int, int]:
    """The level codes of ``effect(X, t0, t1)``'s labels (default ``classes[0]``,
    ``classes[1]``)."""
    first = 0 if t0 is None else level_code(classes, t0, "t0")
    second = 1 if t1 is None else level_code(classes, t1, "t1")
    return first, second


def contrast(effects: np.ndarray, first: int, second: int) -> np.ndarray:
    """Effect of level code ``second`` vs ``first`` from the effects of each treated level vs
    control, ``effects`` of shape (n, K) (or (n,) for one treated level)."""
    effects = np.column_stack([np.zeros(effects.shape[0]), effects])
    return effects[:, second] - effects[:, first]


class SurvivalCATEEstimator(BaseEstimator):
    """Base: validation, horizon, ``predict``, ``effect``, ``ate``, bootstrap ``ate_interval``."""

    def fit(self, X: Any, y: Any, w: Any) -> SurvivalCATEEstimator:
        """Fit the estimator.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
            Covariates.
        y : structured array (event, time), tuple (time, event), (n, 2) array or DataFrame
            Censored survival outcome.
        w : array-like of shape (n,)
            Treatment: integer codes 0..K (0 = control) or labels (stored in ``classes_``).

        Returns
        -------
        self
        """
        X, names, time, event, codes, classes = validate_fit_inputs(X, y, w)
        check_target(self.target)
        self._check_n_bootstrap()
        self.classes_ = classes
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.horizon_ = self._resolve_horizon(time, codes)
        self._fit_core(X, time, event, codes)
        self._train = (X, time, event, codes)
        self._bootstrap_ates = None
        return self

    def _check_n_bootstrap(self) -> None:
        n = self.n_bootstrap
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n_bootstrap must be a non-negative integer; got {n!r}.")

    def _resolve_horizon(self, time: np.ndarray, codes: np.ndarray) -> float:
        """``horizon``, or the default, checked against every arm's follow-up."""
        fallback = default_horizon(time, codes)
        if self.horizon is None:
            return fallback
        horizon = check_horizon(self.horizon, time)
        for code, label in enumerate(self.classes_.tolist()):
            last = float(time[codes == code].max())
            if horizon > last:
                raise ValueError(
                    f"horizon={horizon:g} is beyond the last observed time {last:g} in treatment "
                    f"arm {label!r}, where that arm's survival curve is unknown; choose a horizon "
                    f"<= {fallback:g} (the default: the smallest arm's last observed time)."
                )
        return horizon

    def predict(self, X: Any) -> np.ndarray:
        """Conditional average treatment effect of each treated level vs control.

        ``target="rmst"``: ``E[min(T(k), h) - min(T(0), h) | X = x]``;
        ``target="survival"``: ``P(T(k) > h | x) - P(T(0) > h | x)``, with ``h = horizon_``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)

        Returns
        -------
        ndarray of shape (n,) for a binary treatment, (n, K) for K treated levels
            Column ``k - 1`` is level ``classes_[k]`` vs ``classes_[0]``.
        """
        check_is_fitted(self)
        X, _ = check_covariates(X, n_features=self.n_features_in_)
        return _squeeze(self._predict_core(X))

    def _code(self, level: Any, name: str) -> int:
        """Position of treatment label ``level`` in ``classes_``."""
        return level_code(self.classes_, level, name)

    def effect(self, X: Any, t0: Any = None, t1: Any = None) -> np.ndarray:
        """CATE of level ``t1`` vs level ``t0``: the estimand of :meth:`predict` for that pair.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        t0, t1 : treatment labels, default ``classes_[0]`` and ``classes_[1]``

        Returns
        -------
        ndarray of shape (n,)
        """
        check_is_fitted(self)
        X, _ = check_covariates(X, n_features=self.n_features_in_)
        return self._contrast(X, *contrast_codes(self.classes_, t0, t1))

    def _contrast(self, X: np.ndarray, first: int, second: int) -> np.ndarray:
        """Effect of level code ``second`` vs ``first`` on validated ``X``, shape (n,).

        From ``_predict_core``'s effects vs control; learners with per-level outcomes
        override it to difference those directly.
        """
        return contrast(self._predict_core(X), first, second)

    def ate(self) -> float | np.ndarray:
        """Average treatment effect over the training covariates: the mean of ``predict``.

        Returns
        -------
        float for a binary treatment, ndarray of shape (K,) otherwise
        """
        check_is_fitted(self)
        return _squeeze(self._predict_core(self._train[0]).mean(axis=0))

    def ate_interval(self, alpha: float = 0.05) -> tuple[Any, Any]:
        """Percentile bootstrap ``1 - alpha`` interval for :meth:`ate`.

        Each of ``n_bootstrap`` replicates resamples rows with replacement within each treatment
        arm (so every arm keeps its size), refits the whole estimator at the fitted ``horizon_``
        and averages its CATE over the resampled covariates. The replicates are drawn on the
        first call (seeded by ``random_state``) and reused.

        Parameters
        ----------
        alpha : float, default 0.05

        Returns
        -------
        (lower, upper) : floats for a binary treatment, arrays of shape (K,) otherwise

        References
        ----------
        Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*, ch. 13.
        """
        check_is_fitted(self)
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
        if self.n_bootstrap < 1:
            raise ValueError("ate_interval needs n_bootstrap >= 1; set it and refit.")
        if self._bootstrap_ates is None:
            self._bootstrap_ates = self._bootstrap()
        lower, upper = np.quantile(self._bootstrap_ates, [alpha / 2, 1 - alpha / 2], axis=0)
        return _squeeze(lower), _squeeze(upper)

    def _bootstrap(self) -> np.ndarray:
        """ATE of each stratified bootstrap refit, shape (n_bootstrap, K)."""
        X, time, event, codes = self._train
        rng = check_random_state(self.random_state)
        arms = [np.flatnonzero(codes == code) for code in range(len(self.classes_))]
        draws = []
        for _ in range(self.n_bootstrap):
            rows = np.concatenate([rng.choice(arm, size=arm.size, replace=True) for arm in arms])
            replicate = clone(self)
            replicate.classes_ = self.classes_
            replicate.n_features_in_ = self.n_features_in_
            replicate.horizon_ = self.horizon_
            replicate._fit_core(X[rows], time[rows], event[rows], codes[rows])
            draws.append(replicate._predict_core(X[rows]).mean(axis=0))
        return np.asarray(draws)
