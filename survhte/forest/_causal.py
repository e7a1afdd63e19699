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
from ._levels import (
    LevelForestsMixin,
    check_level_probabilities,
    indicator_propensities,
    weighted_mean_and_se,
)
from ._regression import RegressionForest
from ._strategies import causal_strategy


class CausalForest(LevelForestsMixin, BaseForest):
    """Causal forest estimating ``tau(x) = E[Y(1) - Y(0) | X = x]`` (two treatment levels;
    more below).

    Under unconfoundedness, with ``m(x) = E[Y | X = x]`` and ``e(x) = P(W = 1 | X = x)``
    estimated out of bag (Robinson's centring; Athey, Tibshirani & Wager 2019, sec. 6.2),

        tau(x) = sum_i alpha_i(x) (W_i - e_i)(Y_i - m_i) / sum_i alpha_i(x) (W_i - e_i)^2,

    with forest weights from trees split by the gradient (causal) rule on the centred data,
    with grf's treated/control balance constraints. Intervals by little bags; the average
    effect by augmented inverse-propensity weighting (grf's ``average_treatment_effect``).
    Parameters as in :class:`~survhte.forest._base.BaseForest` (grf's defaults).

    More than two levels (codes 0..K, 0 the control): level ``k``'s effect gets its own
    forest (``arm_forests_[k - 1]``), fitted as above on the rows of levels 0 and ``k`` with
    the propensity ``e_k / (e_0 + e_k)`` (:mod:`survhte.forest._levels`; grf fits one
    multi-arm forest instead); ``predict`` stacks them, (n, K), and the average effects use
    the multi-arm AIPW scores.

    References
    ----------
    Wager, S. & Athey, S. (2018). Estimation and inference of heterogeneous treatment effects
    using random forests. *JASA*, 113(523), 1228-1242.
    Athey, S., Tibshirani, J. & Wager, S. (2019). Generalized random forests. *Ann. Statist.*,
    47(2), 1148-1178.

    Attributes
    ----------
    classes_ : ndarray
        Treatment labels; ``classes_[0]`` is the control.
    y_hat_, w_hat_ : ndarrays of shape (n,)
        The nuisance estimates ``m(X_i)`` and ``e(X_i)`` used (out of bag unless supplied).
        With K > 1 treated levels, ``w_hat_`` is ``P(W = k | X_i)``, (n, K + 1), and
        ``y_hat_`` belongs to each level's forest.
    arm_forests_ : list of CausalForest, only with K > 1 treated levels
        Level ``classes_[k]``'s two-level forest, on the rows of levels 0 and ``k``.
    oob_prediction_, oob_variance_ : ndarrays of shape (n,), or (n, K)
        Out-of-bag CATE estimates of the training rows and their little-bag variance
        (computed on first access; the variance needs ``ci_group_size >= 2``); with K > 1,
        column ``k - 1`` is out of bag on the rows of levels 0 and ``k`` only.
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
        """Fit the nuisances (unless given) and grow the causal forest (one per treated level).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        y : array-like of shape (n,)
            Outcome (uncensored).
        w : array-like of shape (n,)
            Treatment: codes 0..K (0 = control), booleans or labels (see
            ``check_treatment``). With K > 1 treated levels, level ``k``'s forest is fitted
            on the rows of levels 0 and ``k`` (see the class notes).
        y_hat : array-like of shape (n,), optional
            ``m(X_i)`` from any model (cross-fitted); two levels only (with more, each
            level's forest estimates ``E[Y | X]`` on its own rows). By default an out-of-bag
            regression forest with ``max(50, n_estimators // 4)`` trees.
        w_hat : array-like, optional
            ``e(X_i) = P(W = 1 | X_i)``, shape (n,); with K > 1 treated levels
            ``P(W = k | X_i)``, shape (K + 1,) or (n, K + 1). By default out-of-bag
            regression forests of the level indicators (rows normalised to sum 1).
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
        codes, classes = check_treatment(w, n_samples=n)
        weight = check_sample_weight(sample_weight, n)
        weight = np.ones(n) if weight is None else weight
        self._tree_params(X.shape[1])
        self._clear_fit()
        if classes.size == 2:
            return self._fit_binary(X, names, y, codes, classes, weight, y_hat, w_hat)
        if y_hat is not None:
            raise ValueError(
                f"y_hat is E[Y | X] of a two-level fit; with {classes.size} treatment levels "
                "each level's forest estimates it on its own rows: leave y_hat=None."
            )
        seed_w, *level_seeds = self._seeds(classes.size)
        propensities = (
            indicator_propensities(X, codes, weight, seed_w, self._nuisance_forest)
            if w_hat is None else check_level_probabilities(w_hat, n, classes.size, "w_hat"))

        def fit_level(forest: CausalForest, rows: np.ndarray, level_codes: np.ndarray,
                      level_classes: np.ndarray, share: np.ndarray) -> None:
            forest._fit_binary(X[rows], names, y[rows], level_codes, level_classes,
                               weight[rows], None, share)

        self._fit_levels(X, names, codes, classes, weight, propensities, level_seeds, fit_level)
        return self

    def _fit_binary(self, X: np.ndarray, names: list[str], y: np.ndarray, codes: np.ndarray,
                    classes: np.ndarray, weight: np.ndarray, y_hat: Any, w_hat: Any
                    ) -> CausalForest:
        """``fit`` on validated data with two levels."""
        self.classes_ = classes
        treated = codes.astype(np.float64)
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
        return self._nuisance_forest(seed).fit(X, target, sample_weight=weight).oob_prediction_

    def _nuisance_forest(self, seed: int) -> RegressionForest:
        """The regression forest of a nuisance (``max(50, n_estimators // 4)`` trees, this
        forest's settings, no little bags)."""
        return RegressionForest(
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

    def _scores(self) -> np.ndarray:
        """AIPW doubly robust scores ``Gamma_i`` of the training rows, (n,) or (n, K).

        ``Gamma_i = tau_i + (W_i - e_i) / (e_i (1 - e_i)) (Y_i - m_i - (W_i - e_i) tau_i)``,
        with out-of-bag ``tau_i`` (``m_i + (W_i - e_i) tau_i`` is the fitted ``E[Y | X, W]``);
        with K > 1 treated levels, the multi-arm scores of ``LevelForestsMixin``.
        """
        self._check_fitted()
        if self._arms is not None:
            return self._level_scores()
        tau = self.oob_prediction_
        return tau + self._correction(tau)

    def _correction(self, tau: np.ndarray) -> np.ndarray:
        """``(W_i - e_i) / (e_i (1 - e_i)) (Y_i - m_i - (W_i - e_i) tau_i)`` of a two-level
        fit at its rows' effects ``tau``."""
        e = self.w_hat_
        if np.any((e <= 0) | (e >= 1)):
            raise ValueError(
                "w_hat has values at 0 or 1: overlap fails and the doubly robust average "
                "effect is undefined; supply propensities strictly inside (0, 1)."
            )
        residual = self._y - self.y_hat_ - (self._w - e) * tau
        return (self._w - e) / (e * (1 - e)) * residual

    def ate(self) -> Any:
        """Average treatment effect ``E[Y(1) - Y(0)]``: the (weighted) mean AIPW score.

        Returns
        -------
        float, or ndarray of shape (K,) with K > 1 treated levels
        """
        return weighted_mean_and_se(self._scores(), self._weight)[0]

    def ate_interval(self, alpha: float = 0.05) -> tuple[Any, Any]:
        """Normal ``1 - alpha`` interval for :meth:`ate` from the spread of the AIPW scores.

        Standard error ``sqrt(sum w_i^2 (Gamma_i - ate)^2 / (sum w_i)^2 n / (n - 1))``, as
        grf's ``average_treatment_effect``. Floats, or ndarrays of shape (K,).
        """
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
        center, se = weighted_mean_and_se(self._scores(), self._weight)
        half = norm.ppf(1 - alpha / 2) * se
        return center - half, center + half
