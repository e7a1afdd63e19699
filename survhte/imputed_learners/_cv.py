"""Regressors that choose their own complexity by cross-validation and shrink toward the mean.

The second-stage targets of the meta-learners (DR pseudo-outcomes, X-learner imputed effects,
R-learner residual ratios) are mostly noise on small or weakly heterogeneous data: a
fixed-size learner then returns a CATE whose spread is larger than the truth's, worse than
predicting the average effect for everyone. :class:`CrossValidatedRegressor` picks among a few
candidates by K-fold cross-validated (weighted) squared error and, with ``shrink=True``,
calibrates its out-of-fold predictions by the slope of a held-out regression of the target on
them, clipped to ``[0, 1]``: a slope near 0 (no detectable signal) gives a near-constant
prediction, a slope near 1 keeps the fit (the calibration idea of grf's ``test_calibration``,
Chernozhukov et al. 2018's best linear predictor, used here as a shrinkage estimator).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold
from sklearn.preprocessing import SplineTransformer, StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["BinnedBoosting", "CrossValidatedRegressor", "SplineRidge", "default_candidates"]


class SplineRidge(RegressorMixin, BaseEstimator):
    """Additive ridge regression on a cubic B-spline basis of each (standardised) covariate.

    ``RidgeCV`` chooses the penalty among ``alphas`` by efficient leave-one-out (generalised
    cross-validation), with ``sample_weight``; a smooth additive fit whose variance the
    penalty controls, fast (one linear solve per penalty).

    With ``interact_last = m > 0`` the last ``m`` columns are treatment indicators: they
    enter linearly and each multiplies the spline basis of the other columns (an S-learner's
    design: shared prognosis, penalised level-specific effects).

    Parameters
    ----------
    n_knots : int, default 4
    alphas : sequence of float, default ``(0.1, 1, ..., 1e4)``
    interact_last : int, default 0

    Examples
    --------
    >>> import numpy as np
    >>> from survhte.imputed_learners import SplineRidge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(400, 2))
    >>> y = np.sin(X[:, 0]) + rng.normal(scale=0.1, size=400)
    >>> model = SplineRidge().fit(X, y)
    >>> bool(model.score(X, y) > 0.9)
    True
    """

    def __init__(self, n_knots: int = 4, alphas: Any = (0.1, 1.0, 10.0, 100.0, 1e3, 1e4),
                 interact_last: int = 0) -> None:
        self.n_knots = n_knots
        self.alphas = alphas
        self.interact_last = interact_last

    def _basis(self, X: np.ndarray) -> np.ndarray:
        split = X.shape[1] - self.interact_last
        basis = self.splines_.transform(self.scaler_.transform(X[:, :split]))
        if not self.interact_last:
            return basis
        indicators = X[:, split:]
        return np.column_stack([basis, indicators]
                               + [indicators[:, [j]] * basis for j in range(indicators.shape[1])])

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SplineRidge:
        X, y = validate_data(self, X, y, y_numeric=True)
        split = X.shape[1] - self.interact_last
        if not 0 <= self.interact_last < X.shape[1]:
            raise ValueError(f"interact_last must be in [0, {X.shape[1]}); got "
                             f"{self.interact_last!r}.")
        self.scaler_ = StandardScaler().fit(X[:, :split])
        self.splines_ = SplineTransformer(n_knots=self.n_knots, degree=3,
                                          extrapolation="linear").fit(
                                              self.scaler_.transform(X[:, :split]))
        self.ridge_ = RidgeCV(alphas=self.alphas).fit(self._basis(X), y,
                                                      sample_weight=sample_weight)
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "ridge_")
        X = validate_data(self, X, reset=False)
        return self.ridge_.predict(self._basis(X))


class BinnedBoosting(RegressorMixin, BaseEstimator):
    """:class:`~sklearn.ensemble.HistGradientBoostingRegressor` on covariates pre-binned at
    their unweighted quantiles (at most ``max_bins`` distinct values per column).

    Why: with ``sample_weight`` scikit-learn (1.9) bins each column by one weighted-percentile
    call per bin edge, about 4 s per fit of 13 columns, which dominated the R-learner's fit
    (IPCW and residual weights; 160 s on a 1,200-row 4-arm design). Pre-binning leaves at most
    ``max_bins`` distinct values, which scikit-learn bins by midpoints at no cost; the weights
    still enter every gradient and leaf value. Early stopping on a held-out
    ``validation_fraction`` always (``n_iter_no_change`` rounds).

    Examples
    --------
    >>> import numpy as np
    >>> from survhte.imputed_learners import BinnedBoosting
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(1000, 2))
    >>> y = np.where(X[:, 0] > 0, 1.0, 0.0) + rng.normal(scale=0.1, size=1000)
    >>> model = BinnedBoosting(random_state=0).fit(X, y, sample_weight=rng.uniform(0.5, 2, 1000))
    >>> bool(model.score(X, y) > 0.9)
    True
    """

    def __init__(self, learning_rate: float = 0.1, max_iter: int = 100,
                 max_leaf_nodes: int | None = 31, max_depth: int | None = None,
                 min_samples_leaf: int = 20, l2_regularization: float = 0.0,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 10,
                 max_bins: int = 255, random_state: Any = None) -> None:
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.max_bins = max_bins
        self.random_state = random_state

    def _bin(self, X: np.ndarray) -> np.ndarray:
        return np.column_stack([np.searchsorted(edges, X[:, j])
                                for j, edges in enumerate(self.edges_)]).astype(np.float64)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BinnedBoosting:
        X, y = validate_data(self, X, y, y_numeric=True)
        quantiles = np.linspace(0, 100, self.max_bins + 1)[1:-1]
        self.edges_ = [np.unique(np.percentile(X[:, j], quantiles)) for j in range(X.shape[1])]
        self.model_ = HistGradientBoostingRegressor(
            learning_rate=self.learning_rate, max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes, max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
            early_stopping=True, validation_fraction=self.validation_fraction,
            n_iter_no_change=self.n_iter_no_change, max_bins=self.max_bins,
            random_state=self.random_state,
        ).fit(self._bin(X), y, sample_weight=sample_weight)
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False)
        return self.model_.predict(self._bin(X))


def default_candidates() -> list[Any]:
    """The candidates of :class:`CrossValidatedRegressor`: a ridge on splines (smooth, additive),
    early-stopped depth-2 boosting (main effects and pairwise interactions, leaves of 100 rows)
    and a larger early-stopped boosting (8 leaves of 50 rows, for interactions and steps).
    Learning rates of 0.05 / 0.1 with at most 200 rounds keep a 5-fold choice on 2,000 rows
    near a second on one core (a rate of 0.02 ran all 300 rounds on outcome regressions)."""
    return [
        SplineRidge(),
        BinnedBoosting(learning_rate=0.05, max_iter=200, max_depth=2, min_samples_leaf=100,
                       l2_regularization=10.0, validation_fraction=0.2, n_iter_no_change=10),
        BinnedBoosting(learning_rate=0.1, max_iter=200, max_leaf_nodes=8, min_samples_leaf=50,
                       l2_regularization=1.0, validation_fraction=0.2, n_iter_no_change=10),
    ]


#: Below this many rows per fold, :class:`CrossValidatedRegressor` fits the (weighted) mean.
MIN_ROWS_PER_FOLD = 10


def _wmean(values: np.ndarray, weight: np.ndarray) -> float:
    return float(np.sum(weight * values) / np.sum(weight))


def calibration_slope(target: np.ndarray, prediction: np.ndarray,
                      weight: np.ndarray | None = None) -> float:
    """Slope of the weighted least-squares regression of ``target`` on ``prediction`` (with an
    intercept), clipped to ``[0, 1]``; 0 where the prediction is constant."""
    weight = np.ones_like(target) if weight is None else weight
    dp = prediction - _wmean(prediction, weight)
    denom = np.sum(weight * dp**2)
    if denom <= 1e-12 * max(np.sum(weight), 1.0):
        return 0.0
    slope = np.sum(weight * dp * (target - _wmean(target, weight))) / denom
    return float(np.clip(slope, 0.0, 1.0))


class CrossValidatedRegressor(RegressorMixin, BaseEstimator):
    """Choose a regressor among ``candidates`` by K-fold CV, bag its fold fits, shrink to the mean.

    ``fit`` fits every candidate on each of ``n_folds`` training folds and scores its
    out-of-fold predictions by the (``sample_weight``-weighted) squared error; the best
    candidate's fold models are kept and :meth:`predict` averages them (no refit). With
    ``shrink=True`` the prediction is calibrated toward the weighted mean of ``y``:

    .. math:: \\hat f(x) = \\bar y + b\\,\\big(\\bar g(x) - \\bar g_{\\mathrm{oof}}\\big),

    ``b`` the slope of the weighted regression of ``y`` on the out-of-fold predictions
    :math:`g_{\\mathrm{oof}}`, clipped to ``[0, 1]`` (:func:`calibration_slope`). Where ``y``
    is an unbiased signal of an effect (a doubly robust pseudo-outcome), ``b`` estimates how
    much of the fitted spread is signal: near 0 on data without detectable heterogeneity.

    Parameters
    ----------
    candidates : list of regressors or None, default None
        ``None``: :func:`default_candidates`. Each must accept ``sample_weight`` where weights
        are passed.
    n_folds : int, default 5
        With fewer than ``10 * n_folds`` rows the only candidate is the (weighted) mean.
    shrink : bool, default True
        Calibrate by the held-out slope (``False``: ``predict`` is the bagged best candidate,
        for outcome regressions whose spread is prognostic, not noise).
    random_state : int, RandomState or None, default None
        Seeds the folds and every candidate whose ``random_state`` is None.

    Attributes
    ----------
    best_index_ : int
        Index of the chosen candidate.
    cv_errors_ : ndarray of shape (n_candidates,)
        Weighted out-of-fold mean squared errors.
    estimators_ : list of fitted regressors, one per fold
    oof_prediction_ : ndarray of shape (n_samples,)
        The chosen candidate's out-of-fold predictions.
    slope_ : float
        The calibration slope (1 when ``shrink=False``).

    Examples
    --------
    >>> import numpy as np
    >>> from survhte.imputed_learners import CrossValidatedRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3))
    >>> noise_only = CrossValidatedRegressor(random_state=0).fit(X, rng.normal(size=500))
    >>> bool(noise_only.slope_ < 0.5)
    True
    """

    def __init__(self, candidates: Any = None, *, n_folds: int = 5, shrink: bool = True,
                 random_state: Any = None) -> None:
        self.candidates = candidates
        self.n_folds = n_folds
        self.shrink = shrink
        self.random_state = random_state

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> CrossValidatedRegressor:
        X, y = validate_data(self, X, y, y_numeric=True)
        n = X.shape[0]
        if not isinstance(self.n_folds, int) or self.n_folds < 2:
            raise ValueError(f"n_folds must be an integer >= 2; got {self.n_folds!r}.")
        if n < 2:
            raise ValueError(f"CrossValidatedRegressor needs at least 2 rows; got {n}.")
        weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
        rng = check_random_state(self.random_state)
        candidates = default_candidates() if self.candidates is None else list(self.candidates)
        n_folds = self.n_folds
        if n < MIN_ROWS_PER_FOLD * self.n_folds:  # too few rows to choose: the weighted mean
            candidates, n_folds = [DummyRegressor()], min(self.n_folds, n)
        splitter = KFold(n_folds, shuffle=True,
                         random_state=int(rng.randint(np.iinfo(np.int32).max)))
        folds = list(splitter.split(X))
        self.fold_ = np.empty(n, dtype=np.intp)
        for index, (_, test) in enumerate(folds):
            self.fold_[test] = index
        errors, fits, oofs = [], [], []
        for candidate in candidates:
            seed = int(rng.randint(np.iinfo(np.int32).max))
            models, oof = [], np.empty(n)
            for train, test in folds:
                model = clone(candidate)
                if model.get_params(deep=False).get("random_state", 0) is None:
                    model.set_params(random_state=seed)
                if sample_weight is None:
                    model.fit(X[train], y[train])
                else:
                    model.fit(X[train], y[train], sample_weight=weight[train])
                oof[test] = model.predict(X[test])
                models.append(model)
            errors.append(_wmean((y - oof) ** 2, weight))
            fits.append(models)
            oofs.append(oof)
        self.cv_errors_ = np.asarray(errors)
        self.best_index_ = int(np.argmin(self.cv_errors_))
        self.estimators_ = fits[self.best_index_]
        self.oof_prediction_ = oofs[self.best_index_]
        self.intercept_ = _wmean(y, weight)
        self.center_ = _wmean(self.oof_prediction_, weight)
        self.slope_ = (calibration_slope(y, self.oof_prediction_, weight) if self.shrink
                       else 1.0)
        return self

    def _raw(self, X: np.ndarray) -> np.ndarray:
        return np.mean([model.predict(X) for model in self.estimators_], axis=0)

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "estimators_")
        X = validate_data(self, X, reset=False)
        if not self.shrink:
            return self._raw(X)
        return self.intercept_ + self.slope_ * (self._raw(X) - self.center_)

    def predict_out_of_fold(self, X: Any) -> np.ndarray:
        """Uncalibrated prediction for the training rows, each by the fold model that did not
        see it: row ``i`` of ``X`` must describe training row ``i`` (possibly with a changed
        feature, e.g. another treatment level in an S-learner)."""
        check_is_fitted(self, "estimators_")
        X = validate_data(self, X, reset=False)
        if X.shape[0] != self.fold_.shape[0]:
            raise ValueError(f"X must have the {self.fold_.shape[0]} training rows; got "
                             f"{X.shape[0]}.")
        out = np.empty(X.shape[0])
        for index, model in enumerate(self.estimators_):
            rows = self.fold_ == index
            out[rows] = model.predict(X[rows])
        return out
