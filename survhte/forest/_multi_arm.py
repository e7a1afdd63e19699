"""Multi-arm causal forests: one forest for the effects of all K treated levels.

:class:`MultiArmCausalForest` is grf's ``multi_arm_causal_forest`` (uncensored outcome);
:class:`MultiArmCausalSurvivalForest` extends the causal survival forest (Cui et al. 2023) to
K levels the same way. Both solve the K-dimensional local moment equation

    sum_i alpha_i(x) w_i W~_i (U_i - W~_i^T tau(x)) = 0,   W~_i = (1{W_i = k} - e_k(X_i))_k,

with ``U_i`` the centred outcome ``Y_i - m(X_i)`` or the censoring-adjusted outcome
``Gamma_i`` of the causal survival score; trees split on the K-vector gradient pseudo-outcomes
(``survhte._kernels.forest_multi``), and ``tau(x)``, its little-bag covariance pieces and the
doubly robust average effects come from :class:`~._strategies.LinearSystemEstimand`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import norm
from sklearn.utils.validation import check_is_fitted

from .._base import _squeeze, check_alpha, contrast_codes, population_rows, resolve_horizon
from .._validation import (
    check_sample_weight,
    validate_fit_inputs,
)
from ..survival import check_survival_model
from ._average import _on_population, fill_missing, weighted_mean_and_se
from ._base import normal_interval, warn_if_unsplit
from ._causal import CausalForest, _given, _given_propensities
from ._causal_survival import CausalSurvivalForest
from ._engine import numba_threads, scatter_once
from ._nuisances import check_overlap, fit_survival_nuisance, forest_propensities
from ._prediction import predict_estimand, predict_variance
from ._strategies import multi_causal_strategy, multi_causal_survival_strategy
from ._survival_scores import (
    causal_survival_level_scores,
    outcome,
    score_grid,
    warn_censoring,
    warn_large_grid,
)


def level_design(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Indicators ``1{W_i = k}`` of the treated levels ``k = 1..K``, shape (n, K)."""
    return np.eye(n_levels)[codes][:, 1:]


class _Contrast:
    """The estimand ``c . theta`` of a :class:`LinearSystemEstimand` (for
    :func:`._prediction.predict_variance`, which reads ``influence``)."""

    def __init__(self, estimand: Any, contrast: np.ndarray) -> None:
        self.estimand = estimand
        self.contrast = contrast

    def influence(self, means: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return self.estimand.influence(means, theta, self.contrast)


class _LevelPair:
    """Level ``k`` vs control on the rows of those two levels, as ``_average._on_population``
    reads a two-level forest: propensity ``e_k / (e_0 + e_k)``, treated flag, case weights,
    and the residual of the joint fit."""

    def __init__(self, share: np.ndarray, treated: np.ndarray, weight: np.ndarray,
                 residual: np.ndarray) -> None:
        self.w_hat_ = share
        self._treated = treated
        self._weight = weight
        self._res = residual

    def _residual(self, tau: np.ndarray) -> np.ndarray:
        return self._res


class JointForestMixin:
    """The multi-arm forests' predictions, intervals and average effects (before the forest
    class in the MRO).

    A fit sets ``forest_``/``estimand_`` (:meth:`BaseForest._grow`), ``w_hat_`` (n, K + 1),
    ``_codes``, ``_weight``, ``_w_centered`` (n, K) and ``_outcome`` (n,): the centred or
    censoring-adjusted outcome ``U_i``.
    """

    def _predict(self, X: np.ndarray, *, oob: bool = False, variance: bool = False,
                 contrasts: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray | None]:
        """``(theta (m, K), variance (m, K) or None)``, (m,) for one treated level (as the
        two-level forests); with ``contrasts`` (J, K), the estimates and variances of
        ``contrasts @ theta`` instead, (m, J)."""
        estimate, var = self._predict_all(X, oob, variance, contrasts)
        if contrasts is None and estimate.shape[1] == 1:
            return estimate[:, 0], None if var is None else var[:, 0]
        return estimate, var

    def _predict_all(self, X: np.ndarray, oob: bool, variance: bool,
                     contrasts: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        return self._on_device(
            lambda device: self._predict_all_on(X, oob, variance, contrasts, device))

    def _predict_all_on(self, X: np.ndarray, oob: bool, variance: bool,
                        contrasts: np.ndarray | None, device: str
                        ) -> tuple[np.ndarray, np.ndarray | None]:
        with numba_threads(self.n_jobs), scatter_once():  # Dask: the forest sent once
            theta, means = predict_estimand(self.forest_, X, self.estimand_,
                                            self._leaf_values, oob=oob, device=device)
            theta = theta.reshape(X.shape[0], -1)
            rows = np.eye(theta.shape[1]) if contrasts is None else contrasts
            estimate = theta if contrasts is None else theta @ contrasts.T
            if not variance:
                return estimate, None
            var = np.column_stack([
                predict_variance(self.forest_, X, _Contrast(self.estimand_, c),
                                 self._leaf_values, theta, means, oob=oob,
                                 device=device)
                for c in rows])
            return estimate, var

    def effect_interval(self, X: Any, t0: Any = None, t1: Any = None,
                        alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise ``1 - alpha`` interval of :meth:`effect` (level ``t1`` vs ``t0``).

        ``c . tau(x) +- z sqrt(V_c(x))``, ``c = e_{t1} - e_{t0}``, with the little-bag
        variance of the linearised contrast (the grf variance estimator applied to
        ``c . theta``; its per-tree terms ``c^T D^{-1} (N_b - D_b theta)``). Between two
        treated levels this uses the joint forest's covariance of their effects, which
        intervals of separate forests cannot.

        Returns
        -------
        lower, upper : ndarrays of shape (m,)
        """
        alpha = check_alpha(alpha)
        X = self._check_X(X)
        first, second = contrast_codes(self.classes_, t0, t1)
        c = np.zeros(self.classes_.size)
        c[second] += 1.0
        c[first] -= 1.0
        estimate, var = self._predict(X, variance=True, contrasts=c[None, 1:])
        lower, upper = normal_interval(estimate[:, 0], var[:, 0], alpha)
        return lower, upper

    # ------------------------------------------------------------ average effects
    def _scores(self, tau: np.ndarray) -> np.ndarray:
        """Multi-arm AIPW scores (n, K) at the rows' effects ``tau`` (n, K):
        ``tau_k + (1{W = k} / e_k - 1{W = 0} / e_0) (U_i - W~_i . tau_i)``
        (grf's ``multi_arm_causal_forest`` average effects; Imbens 2000)."""
        e = self.w_hat_
        residual = self._residual_of(tau)
        design = level_design(self._codes, e.shape[1])
        control = (self._codes == 0).astype(np.float64)
        weights = design / e[:, 1:] - (control / e[:, 0])[:, None]
        return tau + weights * residual[:, None]

    def _residual_of(self, tau: np.ndarray) -> np.ndarray:
        """``U_i - W~_i . tau_i``: the outcome residual at the rows' own level."""
        return self._outcome - np.sum(self._w_centered * tau, axis=1)

    def _average(self, population: str) -> tuple[np.ndarray, np.ndarray]:
        rows = population_rows(self._codes, population)
        tau = fill_missing(self.oob_prediction_.reshape(self._codes.size, -1))
        if population == "all":
            return weighted_mean_and_se(self._scores(tau), self._weight)
        residual = self._residual_of(tau)
        center, se = np.empty(rows.shape[1]), np.empty(rows.shape[1])
        for k in range(1, rows.shape[1] + 1):
            pair = np.flatnonzero((self._codes == 0) | (self._codes == k))
            e = self.w_hat_[pair]
            view = _LevelPair(e[:, k] / (e[:, 0] + e[:, k]),
                              (self._codes[pair] == k).astype(np.float64),
                              self._weight[pair], residual[pair])
            target = rows[pair, k - 1]
            center[k - 1], se[k - 1] = _on_population(view, tau[pair, k - 1], target,
                                                      population == "treated")
        return center, se

    def _ate_core(self, population: str, alpha: float | None = None
                  ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        center, se = self._average(population)
        if alpha is None:
            return center, None
        half = norm.ppf(1 - alpha / 2) * se
        return center, (center - half, center + half)

    def ate_std_error(self, target_population: str = "all") -> Any:
        """Standard error of :meth:`ate`: float for one treated level, (K,) otherwise."""
        self._check_fitted()
        return _squeeze(self._average(target_population)[1])

    def ate_contrast(self, t0: Any = None, t1: Any = None, alpha: float = 0.05
                     ) -> tuple[float, tuple[float, float]]:
        """Average effect of level ``t1`` vs ``t0`` over all rows and its interval: the mean
        of the difference of the two levels' AIPW scores (a treated level's score vs control
        for ``t0`` the control), with its standard error (grf's, as :meth:`ate`).

        Returns
        -------
        estimate, (lower, upper) : floats
        """
        self._check_fitted()
        alpha = check_alpha(alpha)
        first, second = contrast_codes(self.classes_, t0, t1)
        scores = np.column_stack([np.zeros(self._codes.size),
                                  self._scores(fill_missing(self.oob_prediction_.reshape(
                                      self._codes.size, -1)))])
        center, se = weighted_mean_and_se(scores[:, second] - scores[:, first], self._weight)
        half = norm.ppf(1 - alpha / 2) * se
        return float(center), (float(center - half), float(center + half))

    def _check_fitted(self) -> None:
        check_is_fitted(self, "forest_")


class MultiArmCausalForest(JointForestMixin, CausalForest):
    """Multi-arm causal forest: the effects of K treated levels vs control on an uncensored
    outcome, from one forest (grf's ``multi_arm_causal_forest``).

    Estimand: ``tau_k(x) = E[Y(k) - Y(0) | X = x]`` for each treated level ``k = 1..K``. Under
    unconfoundedness, with ``m(x) = E[Y | X = x]`` and the generalized propensity
    ``e_k(x) = P(W = k | X = x)`` estimated out of bag, the vector ``tau(x)`` solves the local
    moment equation (Athey, Tibshirani & Wager 2019, sec. 6.2; Nie & Wager 2021)

        sum_i alpha_i(x) w_i W~_i (Y_i - m_i - W~_i^T tau(x)) = 0,
        W~_i = (1{W_i = k} - e_k(X_i))_{k=1..K},

    i.e. ``tau(x) = (sum alpha_i w_i W~_i W~_i^T)^{-1} sum alpha_i w_i W~_i (Y_i - m_i)``.
    The trees split on the K-vector gradient pseudo-outcomes of that equation at each parent,
    with the criterion summed over the K components and grf's per-level balance constraints
    (``survhte._kernels.forest_multi``): every level's effect shapes every split, and the
    levels share the forest weights. With one treated level this is :class:`CausalForest`
    (the same trees and estimates, same seed). :class:`CausalForest` with K > 1 levels fits
    one two-level forest per level instead (the per-level alternative; compare them with
    ``benchmarks/multi_arm_forest.py``).

    Intervals: :meth:`predict_interval` per level and :meth:`effect_interval` for any
    contrast of levels, by little bags on the linearised vector estimate (grf's variance
    estimator for ``c . theta``). Average effects: AIPW scores
    ``tau_k(X_i) + (1{W_i = k} / e_k - 1{W_i = 0} / e_0)(Y_i - m_i - W~_i . tau(X_i))`` with
    out-of-bag ``tau`` (grf's ``average_treatment_effect``); ``"treated"`` / ``"control"``:
    per level, the doubly robust average over the rows of levels 0 and ``k`` (as the two-level
    forest), with the joint forest's effects.

    Parameters
    ----------
    n_estimators : int, default 2000
    control, propensity_model, n_folds : see :class:`CausalForest`
        ``fit(w_hat=...)`` takes ``P(W = k | X_i)`` of every level, shape (n, K + 1) or
        (K + 1,); for two levels also (n,).
    sample_fraction, mtry, min_node_size, honesty, honesty_fraction, honesty_prune_leaves,
    alpha, imbalance_penalty, ci_group_size, n_jobs, device, random_state
        As :class:`~survhte.forest._base.BaseForest` (grf's defaults).

    Attributes
    ----------
    classes_ : ndarray
        Treatment labels, the control first.
    y_hat_ : ndarray of shape (n,)
        ``m(X_i)``, out of bag unless given.
    w_hat_ : ndarray of shape (n, K + 1)
        ``P(W = k | X_i)`` used.
    forest_ : the grown forest
    oob_prediction_, oob_variance_ : ndarrays of shape (n,) or (n, K)

    References
    ----------
    Athey, S., Tibshirani, J. & Wager, S. (2019). Generalized random forests. *Ann. Statist.*,
    47(2), 1148-1178.
    Nie, X. & Wager, S. (2021). Quasi-oracle estimation of heterogeneous treatment effects.
    *Biometrika*, 108(2), 299-319.

    Examples
    --------
    >>> import numpy as np
    >>> from survhte.forest import MultiArmCausalForest
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(900, 3))
    >>> w = rng.integers(0, 3, 900)
    >>> y = X[:, 0] + (w == 1) * X[:, 1] - (w == 2) * X[:, 2] + rng.normal(size=900)
    >>> forest = MultiArmCausalForest(200, random_state=0).fit(X, y, w)
    >>> forest.predict(X[:2]).shape
    (2, 2)
    >>> lower, upper = forest.effect_interval(X[:2], t0=1, t1=2)
    """

    def fit(self, X: Any, y: Any, w: Any, *, y_hat: Any = None, w_hat: Any = None,
            sample_weight: Any = None) -> MultiArmCausalForest:
        """Fit the nuisances (unless given) and grow one forest for all treated levels.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        y : array-like of shape (n,)
            Outcome (uncensored).
        w : array-like of shape (n,)
            Treatment: codes 0..K (0 = control) or labels (``control=``).
        y_hat : array-like of shape (n,), optional
            ``m(X_i) = E[Y | X_i]`` (cross-fitted); default an out-of-bag regression forest
            with ``max(50, n_estimators // 4)`` trees.
        w_hat : array-like, optional
            ``P(W = k | X_i)``: (n, K + 1) or (K + 1,); for two levels also (n,) of
            ``P(W = 1 | X_i)``. Default from ``propensity_model``.
        sample_weight : array-like of shape (n,), optional

        Returns
        -------
        self
        """
        X_array, names, y, codes, classes, weight = self._fit_inputs(X, y, w, sample_weight)
        n = X_array.shape[0]
        self._clear_fit()
        self._set_fit_attributes(X, names, classes)
        seed, seed_y, seed_w = self._seeds(3)  # CausalForest's order: K = 1 is the same fit
        if w_hat is None:
            propensities = forest_propensities(
                self.propensity_model, X_array, codes, classes, weight, seed_w, seed_w,
                self.n_folds, self._nuisance_forest)
        else:
            propensities = _given_propensities(w_hat, n, classes.size)
        check_overlap(propensities, codes, classes, "MultiArmCausalForest")
        if y_hat is None:
            self.y_hat_ = self._nuisance_forest(seed_y).fit(
                X_array, y, sample_weight=weight).oob_prediction_
        else:
            self.y_hat_ = _given(y_hat, "y_hat", n)
        self.classes_ = classes
        self.w_hat_ = propensities
        self._codes = codes
        self._weight = weight
        self._w_centered = level_design(codes, classes.size) - propensities[:, 1:]
        self._outcome = y - self.y_hat_
        self._set_training(X_array, names)
        self._grow(X_array, *multi_causal_strategy(self._outcome, self._w_centered, weight),
                   seed)
        return self


class MultiArmCausalSurvivalForest(JointForestMixin, CausalSurvivalForest):
    r"""Multi-arm causal survival forest: the effects of K treated levels vs control on a
    censored survival outcome, from one forest.

    Estimand, for ``f(T) = min(T, h)`` (``target="rmst"``) or ``1{T > h}``
    (``target="survival"``) and each treated level ``k = 1..K``:

    .. math:: \tau_k(x) = E[f(T(k)) - f(T(0)) \mid X = x].

    The causal survival forest's estimating equation (Cui, Kosorok, Sverdrup, Wager & Zhu
    2023) with a vector parameter: with the generalized propensity ``e_k(x)``, the centred
    level indicators ``W~_i = (1{W_i = k} - e_k(X_i))_{k=1..K}``,
    ``m(x) = sum_k e_k(x) E[f(T) | x, k]`` (``k = 0..K``) and the censoring-adjusted outcome

    .. math::

        \Gamma_i = \frac{\Delta_i (f(Y_i) - m_i) + (1 - \Delta_i)(Q_i(Y_i) - m_i)}{C_i(Y_i)}
                 - \int_0^{Y_i} \frac{Q_i(t) - m_i}{C_i(t)} \, d\Lambda_{C,i}(t)

    (``Q_i(t) = E[f(T) | X_i, W_i, T > t]``, ``C_i`` the censoring survival at the row's own
    level; the binary forest's score is ``psi_i = (W_i - e_i) \Gamma_i``), ``tau(x)`` solves

    .. math:: \sum_i \alpha_i(x) w_i \tilde W_i (\Gamma_i - \tilde W_i^T \tau(x)) = 0,

    a K x K system per ``x`` (the leaf statistics ``w_i W~_i Gamma_i`` and
    ``w_i W~_i W~_i^T``). Each parent's joint solve gives the K-vector pseudo-outcomes
    ``rho_i = A^{-1}(W~_i Gamma_i - W~_i W~_i^T eta)``, ``A = sum w W~ W~^T``; splits maximise
    the sum over ``k`` of the children's squared sums of ``rho_k`` (grf's multi-arm rule),
    with every level's treated/control balance constraint and at least
    ``max(ceil(alpha m), 1)`` events in each child (grf's causal survival rule). With one
    treated level this is :class:`CausalSurvivalForest` (the same nuisances, scores, trees and
    estimates, same seed). :class:`CausalSurvivalForest` with K > 1 levels is the per-level
    alternative (one two-level forest per level on the rows of levels 0 and ``k``).

    Nuisances: as :class:`CausalSurvivalForest`'s, with the treatment entering the event and
    censoring models as the K level indicators (columns appended to ``X``; the propensity of
    every level from ``propensity_model``: by default out-of-bag regression forests of the
    level indicators, normalised).

    Intervals: :meth:`predict_interval` per level and :meth:`effect_interval` for contrasts
    between levels, by little bags (``ci_group_size`` trees per half-sample) on the
    linearised vector estimate. Average effects: the multi-arm AIPW scores
    ``tau_k(X_i) + (1{W_i = k} / e_k - 1{W_i = 0} / e_0)(Gamma_i - W~_i . tau(X_i))`` with
    out-of-bag ``tau`` (:meth:`ate`, :meth:`ate_contrast`).

    Parameters
    ----------
    n_estimators : int, default 2000
    target, horizon, failure_times, control, propensity_model, event_model,
    censoring_model, n_folds, stabilize_splits, score_discretization
        As :class:`CausalSurvivalForest`; the event and censoring models see ``X`` with the
        K level indicators appended.
    sample_fraction, mtry, min_node_size, honesty, honesty_fraction, honesty_prune_leaves,
    alpha, imbalance_penalty, ci_group_size, n_jobs, device, random_state
        As :class:`~survhte.forest._base.BaseForest` (grf's defaults).

    Attributes
    ----------
    classes_, horizon_, failure_times_, y_hat_, censoring_at_y_, event_model_
        As :class:`CausalSurvivalForest`.
    w_hat_ : ndarray of shape (n, K + 1)
    psi_numerator_ : ndarray of shape (n, K)
        ``W~_i Gamma_i``.
    psi_denominator_ : ndarray of shape (n, K, K)
        ``W~_i W~_i^T``.
    level_means_ : ndarray of shape (n, K + 1)
        ``E[f(T) | X_i, k]`` from the event model (out of bag or out of fold).
    oob_prediction_, oob_variance_ : ndarrays of shape (n,) or (n, K)

    References
    ----------
    Cui, Y., Kosorok, M. R., Sverdrup, E., Wager, S. & Zhu, R. (2023). Estimating heterogeneous
    treatment effects with right-censored data via causal survival forests. *JRSS-B*, 85(2),
    179-211.
    Athey, S., Tibshirani, J. & Wager, S. (2019). Generalized random forests. *Ann. Statist.*,
    47(2), 1148-1178.

    Examples
    --------
    >>> from survhte.simulate import stress_design
    >>> from survhte.forest import MultiArmCausalSurvivalForest
    >>> d = stress_design("trial_4arm", n=900, random_state=0)
    >>> forest = MultiArmCausalSurvivalForest(100, horizon=d.horizon, random_state=0)
    >>> forest.fit(d.X, d.y, d.w).predict(d.X[:2]).shape
    (2, 3)
    """

    def fit(self, X: Any, y: Any, w: Any, *, sample_weight: Any = None
            ) -> MultiArmCausalSurvivalForest:
        """Fit the nuisances, compute the scores and grow one forest for all treated levels.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        y : structured array (event, time), tuple (time, event), (n, 2) array or DataFrame
        w : array-like of shape (n,)
            Treatment: codes 0..K (0 = control) or labels (``control=``).
        sample_weight : array-like of shape (n,), optional
            As :meth:`CausalSurvivalForest.fit`.

        Returns
        -------
        self
        """
        self._validate_params()
        X_array, names, time, event, codes, classes = validate_fit_inputs(
            X, y, w, control=self.control)
        for name in ("event_model", "censoring_model"):
            if getattr(self, name) is not None:
                check_survival_model(getattr(self, name), name)
        n, p = X_array.shape
        params = self._tree_params(p)
        given_weight = check_sample_weight(sample_weight, n)
        weight = np.ones(n) if given_weight is None else given_weight
        self._clear_fit()
        self._set_fit_attributes(X, names, classes)
        horizon = resolve_horizon(self.horizon, time, codes, classes)
        # CausalSurvivalForest's seeds and their order: K = 1 is the same fit.
        seed_forest, seed_w, seed_s, seed_c, seed_folds = self._seeds(5)
        propensities = forest_propensities(
            self.propensity_model, X_array, codes, classes, weight, seed_w, seed_folds,
            self.n_folds, self._propensity_forest)
        check_overlap(propensities, codes, classes, "MultiArmCausalSurvivalForest")
        self.classes_ = classes
        self.horizon_ = horizon
        self._codes = codes
        self.w_hat_ = propensities

        f_value, nuis_time, nuis_event = outcome(self.target, time, event, horizon)
        grid, forest_times = score_grid(self.failure_times, nuis_time, horizon)
        self.failure_times_ = grid
        warn_large_grid(n, grid)
        design = level_design(codes, classes.size)
        event_nuisance = fit_survival_nuisance(
            self.event_model, "event_model", X_array, design, nuis_time, nuis_event,
            given_weight, self._survival_forest(seed_s, params.mtry, forest_times),
            seed_folds, self.n_folds, classes)
        self.event_model_ = event_nuisance.fitted
        if event_nuisance.fold_of is None:
            warn_if_unsplit(event_nuisance.fitted.forest_, float(np.mean(nuis_event)),
                            params.alpha,
                            "MultiArmCausalSurvivalForest's event survival forest")
        censoring_nuisance = None
        if not nuis_event.all():
            censoring_nuisance = fit_survival_nuisance(
                self.censoring_model, "censoring_model", X_array, design, nuis_time,
                ~nuis_event, given_weight,
                self._survival_forest(seed_c, params.mtry, forest_times), seed_folds,
                self.n_folds, classes)
        y_hat, bracket, c_at_y, level_means = causal_survival_level_scores(
            X_array, design, codes, time, event, horizon, grid, f_value, propensities,
            event_nuisance, censoring_nuisance, self.target, self.score_discretization,
            self.n_jobs)
        self.y_hat_ = y_hat
        self.censoring_at_y_ = c_at_y
        self.level_means_ = level_means
        warn_censoring(c_at_y, self.target)
        w_centered = design - propensities[:, 1:]
        numerator = w_centered * bracket[:, None]
        if not np.all(np.isfinite(numerator)):
            raise ValueError(
                "the causal survival scores are not finite: a censoring or event survival "
                "estimate is 0 where the score divides by it; choose an earlier horizon or "
                "a censoring model with positive curves."
            )
        self.psi_numerator_ = numerator
        self.psi_denominator_ = w_centered[:, :, None] * w_centered[:, None, :]
        self._w_centered = w_centered
        self._outcome = bracket
        self._weight = weight
        self._set_training(X_array, names)
        known = event | (time >= horizon)
        rule, estimand = multi_causal_survival_strategy(
            bracket, w_centered, known, weight, stabilize_splits=self.stabilize_splits)
        self._grow(X_array, rule, estimand, seed_forest)
        warn_if_unsplit(self.forest_, float(np.mean(known)), params.alpha,
                        "MultiArmCausalSurvivalForest")
        return self

    def _treatment_columns(self, codes: np.ndarray) -> np.ndarray:
        """The level indicators the survival nuisances were fitted with."""
        return level_design(codes, self.classes_.size)
