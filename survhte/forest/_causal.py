"""Causal forest for an uncensored outcome (grf's ``causal_forest``)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._nuisance import NUISANCE_CONSTRAINTS, check_level_probabilities
from .._validation import (
    _finite_float_vector,
    check_covariates,
    check_sample_weight,
    check_treatment,
)
from ._base import FOREST_CONSTRAINTS
from ._cate import CATEForest
from ._nuisances import PROPENSITY_FORMS, check_overlap, forest_propensities
from ._regression import RegressionForest
from ._strategies import causal_strategy


class CausalForest(CATEForest):
    """Causal forest estimating ``tau(x) = E[Y(1) - Y(0) | X = x]`` (two treatment levels;
    more below).

    Under unconfoundedness, with ``m(x) = E[Y | X = x]`` and ``e(x) = P(W = 1 | X = x)``
    estimated out of bag (Robinson's centring; Athey, Tibshirani & Wager 2019, sec. 6.2),

        tau(x) = sum_i alpha_i(x) (W_i - e_i)(Y_i - m_i) / sum_i alpha_i(x) (W_i - e_i)^2,

    with forest weights from trees split by the gradient (causal) rule on the centred data,
    with grf's treated/control balance constraints. Intervals by little bags; the average
    effects (overall, on the treated, on the controls) by augmented inverse-propensity
    weighting (grf's ``average_treatment_effect``; :mod:`survhte.forest._average`, shared with
    :class:`~survhte.forest.CausalSurvivalForest`). ``fit`` warns, with the numbers, when an
    estimated propensity is below 0.05 or above 0.95 (poor overlap).

    Parameters
    ----------
    n_estimators : int, default 2000
    control : label, optional
        The reference level of ``w`` (becomes ``classes_[0]``); needed for string labels.
    propensity_model : None, "constant", float, array-like or classifier, default None
        The propensity specification of :mod:`survhte._nuisance`: ``None``, grf's
        out-of-bag regression forest of ``W`` (per level indicator for more levels);
        ``"constant"``, a float ``P(W = classes_[1])``, an array of each level's probability
        (K + 1,) or known per-row probabilities ((n,) or (n, K + 1)); a classifier with
        ``predict_proba``, cross-fitted over ``n_folds`` folds. ``fit(w_hat=...)`` overrides
        it.
    n_folds : int, default 5
        Cross-fitting folds (>= 2, stratified by arm) of a classifier ``propensity_model``.
    sample_fraction, mtry, min_node_size, honesty, honesty_fraction, honesty_prune_leaves,
    alpha, imbalance_penalty, ci_group_size, n_jobs, device, split_search, n_bins, random_state
        As :class:`~survhte.forest._base.BaseForest` (grf's defaults).

    Notes
    -----
    More than two levels (codes 0..K, 0 the control): level ``k``'s effect gets its own
    forest (``arm_forests_[k - 1]``), fitted as above on the rows of levels 0 and ``k`` with
    the propensity ``e_k / (e_0 + e_k)`` (:mod:`survhte.forest._levels`); ``predict``
    stacks them, (n, K), and the average effects use the multi-arm AIPW scores.
    :class:`~survhte.forest.MultiArmCausalForest` fits one forest for all levels instead
    (grf's ``multi_arm_causal_forest``).

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

    Examples
    --------
    >>> import numpy as np
    >>> from survhte.forest import CausalForest
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(800, 3))
    >>> w = rng.integers(0, 2, 800)
    >>> y = X[:, 0] + w * X[:, 1] + rng.normal(size=800)
    >>> forest = CausalForest(200, random_state=0).fit(X, y, w)
    >>> forest.predict(X[:2]).shape, forest.predict_interval(X[:2])[0].shape
    ((2,), (2,))
    >>> lower, upper = forest.ate_interval(target_population="treated")
    """

    _parameter_constraints: ClassVar[dict] = {
        **FOREST_CONSTRAINTS,
        "control": ["no_validation"],
        "propensity_model": PROPENSITY_FORMS,
        "n_folds": NUISANCE_CONSTRAINTS["n_folds"],
    }

    def __init__(
        self,
        n_estimators: int = 2000,
        *,
        control: Any = None,
        propensity_model: Any = None,
        n_folds: int = 5,
        sample_fraction: float = 0.5,
        mtry: int | None = None,
        min_node_size: int = 5,
        honesty: bool = True,
        honesty_fraction: float = 0.5,
        honesty_prune_leaves: bool = True,
        alpha: float = 0.05,
        imbalance_penalty: float = 0.0,
        ci_group_size: int = 2,
        n_jobs: int | None = None,
        device: str = "auto",
        split_search: str = "exact",
        n_bins: int = 256,
        random_state: Any = None,
    ) -> None:
        super().__init__(
            n_estimators,
            sample_fraction=sample_fraction,
            mtry=mtry,
            min_node_size=min_node_size,
            honesty=honesty,
            honesty_fraction=honesty_fraction,
            honesty_prune_leaves=honesty_prune_leaves,
            alpha=alpha,
            imbalance_penalty=imbalance_penalty,
            ci_group_size=ci_group_size,
            n_jobs=n_jobs,
            device=device,
            split_search=split_search,
            n_bins=n_bins,
            random_state=random_state,
        )
        self.control = control
        self.propensity_model = propensity_model
        self.n_folds = n_folds


    def _fit_inputs(self, X: Any, y: Any, w: Any, sample_weight: Any
                    ) -> tuple[np.ndarray, list[str] | None, np.ndarray, np.ndarray, np.ndarray,
                               np.ndarray]:
        """Checked parameters and ``(X, feature names, y, level codes, classes, weights)``
        of a fit on an uncensored outcome (weights all 1 when none are given)."""
        self._validate_params()
        X_array, names = check_covariates(X)
        n = X_array.shape[0]
        y = _finite_float_vector(y, "y")
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} rows but X has {n}.")
        codes, classes = check_treatment(w, n_samples=n, control=self.control)
        weight = check_sample_weight(sample_weight, n)
        weight = np.ones(n) if weight is None else weight
        self._tree_params(X_array.shape[1])
        return X_array, names, y, codes, classes, weight

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
            Treatment: codes 0..K (0 = control), booleans or labels (``control=`` names the
            reference level; see ``check_treatment``). With K > 1 treated levels, level
            ``k``'s forest is fitted on the rows of levels 0 and ``k`` (see the class notes).
        y_hat : array-like of shape (n,), optional
            ``m(X_i)`` from any model (cross-fitted); two levels only (with more, each
            level's forest estimates ``E[Y | X]`` on its own rows). By default an out-of-bag
            regression forest with ``max(50, n_estimators // 4)`` trees.
        w_hat : array-like, optional
            Known ``e(X_i) = P(W = 1 | X_i)``, shape (n,); with K > 1 treated levels
            ``P(W = k | X_i)``, shape (K + 1,) or (n, K + 1) (grf's ``W.hat``). By default
            from ``propensity_model``.
        sample_weight : array-like of shape (n,), optional

        Returns
        -------
        self
        """
        X_array, names, y, codes, classes, weight = self._fit_inputs(X, y, w, sample_weight)
        n = X_array.shape[0]
        if classes.size > 2 and y_hat is not None:
            raise ValueError(
                f"y_hat is E[Y | X] of a two-level fit; with {classes.size} treatment levels "
                "each level's forest estimates it on its own rows: leave y_hat=None."
            )
        self._clear_fit()
        self._set_fit_attributes(X, names, classes)
        X = X_array
        if classes.size == 2:
            seeds = self._seeds(3)
            seed_w = seeds[2]
        else:
            seed_w, *level_seeds = self._seeds(classes.size)
        if w_hat is None:
            propensities = forest_propensities(
                self.propensity_model, X, codes, classes, weight, seed_w, seed_w,
                self.n_folds, self._nuisance_forest)
        else:
            propensities = _given_propensities(w_hat, n, classes.size)
        check_overlap(propensities, codes, classes, "CausalForest")
        if classes.size == 2:
            self._fit_binary(X, names, y, codes, classes, weight, y_hat, propensities[:, 1],
                             seeds)
            return self

        def fit_level(forest: CausalForest, rows: np.ndarray, level_codes: np.ndarray,
                      level_classes: np.ndarray, share: np.ndarray) -> None:
            forest._fit_binary(X[rows], names, y[rows], level_codes, level_classes,
                               weight[rows], None, share)

        self._fit_levels(X, names, codes, classes, weight, propensities, level_seeds, fit_level)
        return self

    def _fit_binary(self, X: np.ndarray, names: list[str], y: np.ndarray, codes: np.ndarray,
                    classes: np.ndarray, weight: np.ndarray, y_hat: Any, w_hat: np.ndarray,
                    seeds: list[int] | None = None) -> None:
        """``fit`` on validated data with two levels and propensities ``w_hat``; ``seeds``:
        this fit's three seeds (drawn if None: a level's forest of a multi-level fit)."""
        self.classes_ = classes
        self._codes = codes
        treated = codes.astype(np.float64)
        seed, seed_y, _ = self._seeds(3) if seeds is None else seeds
        if y_hat is None:
            self.y_hat_ = self._nuisance_forest(seed_y).fit(
                X, y, sample_weight=weight).oob_prediction_
        else:
            self.y_hat_ = _given(y_hat, "y_hat", X.shape[0])
        self.w_hat_ = w_hat
        self._set_training(X, names)
        self._y, self._treated, self._weight = y, treated, weight
        self._grow(X, *causal_strategy(y - self.y_hat_, treated - self.w_hat_, weight), seed)

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
            device=self.device,
            split_search=self.split_search,
            n_bins=self.n_bins,
            random_state=seed,
        )

    def _correction(self, tau: np.ndarray) -> np.ndarray:
        """``(W_i - e_i) / (e_i (1 - e_i)) (Y_i - m_i - (W_i - e_i) tau_i)`` of a two-level
        fit at its rows' effects ``tau``: the AIPW score is ``tau_i`` plus it."""
        e = self.w_hat_
        if np.any((e <= 0) | (e >= 1)):
            raise ValueError(
                "w_hat has values at 0 or 1: overlap fails and the doubly robust average "
                "effect is undefined; supply propensities strictly inside (0, 1)."
            )
        return (self._treated - e) / (e * (1 - e)) * self._residual(tau)

    def _residual(self, tau: np.ndarray) -> np.ndarray:
        """``Y_i - m_i - (W_i - e_i) tau_i``: observed minus fitted ``E[Y | X_i, W_i]``."""
        return self._y - self.y_hat_ - (self._treated - self.w_hat_) * tau


def _given_propensities(w_hat: Any, n: int, n_levels: int) -> np.ndarray:
    """Known propensities ``w_hat`` as (n, K + 1): for two levels (n,) values of
    ``P(W = 1 | X)``; else (K + 1,) or (n, K + 1) level probabilities."""
    if n_levels == 2 and np.ndim(w_hat) == 1 and np.shape(w_hat)[0] == n:
        e = _given(w_hat, "w_hat", n)
        return np.column_stack([1 - e, e])
    return check_level_probabilities(w_hat, n, n_levels, "w_hat")


def _given(values: Any, name: str, n: int) -> np.ndarray:
    """A supplied nuisance vector (``y_hat``, ``w_hat``): finite, one value per row."""
    values = _finite_float_vector(values, name)
    if values.shape[0] != n:
        raise ValueError(f"{name} has {values.shape[0]} rows but X has {n}.")
    return values
