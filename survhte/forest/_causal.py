"""Causal forest for an uncensored outcome (grf's ``causal_forest``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import norm

from .._validation import (
    _finite_float_vector,
    check_covariates,
    check_sample_weight,
    check_treatment,
)
from ._base import BaseForest
from ._regression import RegressionForest
from ._strategies import causal_strategy


class CausalForest(BaseForest):
    """Causal forest estimating ``tau(x) = E[Y(1) - Y(0) | X = x]`` for a binary treatment.

    Under unconfoundedness, with ``m(x) = E[Y | X = x]`` and ``e(x) = P(W = 1 | X = x)``
    estimated out of bag (Robinson's centring; Athey, Tibshirani & Wager 2019, sec. 6.2),

        tau(x) = sum_i alpha_i(x) (W_i - e_i)(Y_i - m_i) / sum_i alpha_i(x) (W_i - e_i)^2,

    with forest weights from trees split by the gradient (causal) rule on the centred data,
    with grf's treated/control balance constraints. Intervals by little bags; the average
    effect by augmented inverse-propensity weighting (grf's ``average_treatment_effect``).
    Parameters as in :class:`~survhte.forest._base.BaseForest` (grf's defaults).

    References
    ----------
    Wager, S. & Athey, S. (2018). Estimation and inference of heterogeneous treatment effects
    using random forests. *JASA*, 113(523), 1228-1242.
    Athey, S., Tibshirani, J. & Wager, S. (2019). Generalized random forests. *Ann. Statist.*,
    47(2), 1148-1178.

    Attributes
    ----------
    classes_ : ndarray
        Treatment labels; ``classes_[1]`` is the treated level.
    y_hat_, w_hat_ : ndarrays of shape (n,)
        The nuisance estimates ``m(X_i)`` and ``e(X_i)`` used (out of bag unless supplied).
    oob_prediction_, oob_variance_ : ndarrays of shape (n,)
        Out-of-bag CATE estimates of the training rows and their little-bag variance
        (computed on first access; the variance needs ``ci_group_size >= 2``).
    """

    def fit(
        self,
        X: Any,
        y: Any,
        w: Any,
        *,
        y_hat: Any = None,
        w_hat: Any = None,
        sample_weight: Any = None,
    ) -> CausalForest:
        """Fit the nuisances (unless given) and grow the causal forest.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        y : array-like of shape (n,)
            Outcome (uncensored).
        w : array-like of shape (n,)
            Binary treatment: 0/1 codes, booleans or two labels (see ``check_treatment``).
        y_hat, w_hat : array-like of shape (n,), optional
            ``m(X_i)`` and ``e(X_i)`` from any model (cross-fitted); by default out-of-bag
            regression forests with ``max(50, n_estimators // 4)`` trees.
        sample_weight : array-like of shape (n,), optional

        Returns
        -------
        self
        """
        X, names = check_covariates(X)
        n = X.shape[0]
        y = _finite_float_vector(y, "y")
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} rows but X has {n}.")
        codes, self.classes_ = check_treatment(w, n_samples=n)
        if self.classes_.size != 2:
            raise ValueError(
                f"w has {self.classes_.size} levels; CausalForest needs a binary treatment."
            )
        treated = codes.astype(np.float64)
        weight = check_sample_weight(sample_weight, n)
        weight = np.ones(n) if weight is None else weight
        self._tree_params(X.shape[1])
        seed, seed_y, seed_w = self._seeds(3)
        self.y_hat_ = self._nuisance(X, y, y_hat, "y_hat", seed_y, weight)
        self.w_hat_ = self._nuisance(X, treated, w_hat, "w_hat", seed_w, weight)
        self._set_training(X, names)
        self._y, self._w, self._weight = y, treated, weight
        self._grow(X, *causal_strategy(y - self.y_hat_, treated - self.w_hat_, weight), seed)
        return self

    def _nuisance(
        self, X: np.ndarray, target: np.ndarray, given: Any, name: str, seed: int,
        weight: np.ndarray,
    ) -> np.ndarray:
        """A supplied nuisance vector, validated, or an out-of-bag regression forest's."""
        if given is not None:
            values = _finite_float_vector(given, name)
            if values.shape[0] != X.shape[0]:
                raise ValueError(f"{name} has {values.shape[0]} rows but X has {X.shape[0]}.")
            return values
        forest = RegressionForest(
            n_estimators=max(50, self.n_estimators // 4),
            sample_fraction=self.sample_fraction,
            mtry=self.mtry,
            min_node_size=self.min_node_size,
            honesty=self.honesty,
            honesty_fraction=self.honesty_fraction,
            honesty_prune_leaves=self.honesty_prune_leaves,
            alpha=self.alpha,
            imbalance_penalty=self.imbalance_penalty,
            ci_group_size=1,
            n_jobs=self.n_jobs,
            random_state=seed,
        )
        return forest.fit(X, target, sample_weight=weight).oob_prediction_

    def predict(self, X: Any) -> np.ndarray:
        """CATE ``tau(x)`` at each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (m, p)

        Returns
        -------
        ndarray of shape (m,)
        """
        return self._estimate(X)

    def _scores(self) -> np.ndarray:
        """AIPW doubly robust scores ``Gamma_i`` of the training rows.

        ``Gamma_i = tau_i + (W_i - e_i) / (e_i (1 - e_i)) (Y_i - m_i - (W_i - e_i) tau_i)``,
        with out-of-bag ``tau_i`` (``m_i + (W_i - e_i) tau_i`` is the fitted ``E[Y | X, W]``).
        """
        e = self.w_hat_
        if np.any((e <= 0) | (e >= 1)):
            raise ValueError(
                "w_hat has values at 0 or 1: overlap fails and the doubly robust average "
                "effect is undefined; supply propensities strictly inside (0, 1)."
            )
        tau = self.oob_prediction_
        residual = self._y - self.y_hat_ - (self._w - e) * tau
        return tau + (self._w - e) / (e * (1 - e)) * residual

    def ate(self) -> float:
        """Average treatment effect ``E[Y(1) - Y(0)]``: the (weighted) mean AIPW score."""
        scores = self._scores()
        return float(np.average(scores, weights=self._weight))

    def ate_interval(self, alpha: float = 0.05) -> tuple[float, float]:
        """Normal ``1 - alpha`` interval for :meth:`ate` from the spread of the AIPW scores.

        Standard error ``sqrt(sum w_i^2 (Gamma_i - ate)^2 / (sum w_i)^2 n / (n - 1))``, as
        grf's ``average_treatment_effect``.
        """
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
        scores = self._scores()
        weight = self._weight
        center = float(np.average(scores, weights=weight))
        n = scores.shape[0]
        se = np.sqrt(np.sum(weight**2 * (scores - center) ** 2) / weight.sum() ** 2 * n / (n - 1))
        half = float(norm.ppf(1 - alpha / 2) * se)
        return center - half, center + half
