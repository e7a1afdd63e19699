"""Parameters, growing and prediction plumbing shared by the forest estimators."""

from __future__ import annotations

import math
import warnings
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from scipy import sparse
from scipy.stats import norm
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._base import check_alpha
from .._device import DEVICE_CONSTRAINT, run_on_device
from .._kernels.forest_hist import HIST_RULES, MAX_BINS
from .._params import Interval, Options, validate_params
from .._validation import check_covariates
from .._warnings import user_stacklevel
from ._engine import TreeParams, grow_forest, numba_threads, scatter_once
from ._prediction import (
    estimand_leaf_values,
    predict_estimand,
    predict_variance,
    weights_matrix,
)
from ._strategies import Estimand, GrowthRule

#: The hyperparameters every forest shares (grf's), checked by
#: :meth:`BaseForest._validate_params`; the checks between parameters (``n_estimators`` a
#: multiple of ``ci_group_size``, ``sample_fraction <= 0.5`` with little bags, ``mtry <= p``)
#: are in :meth:`BaseForest._tree_params`.
FOREST_CONSTRAINTS: dict[str, list[Any]] = {
    "n_estimators": [Interval(int, 1, None)],
    "sample_fraction": [Interval(float, 0, 1, closed="right")],
    "mtry": [None, Interval(int, 1, None)],
    "min_node_size": [Interval(int, 1, None)],
    "honesty": ["boolean"],
    "honesty_fraction": [Interval(float, 0, 1, closed="right")],
    "honesty_prune_leaves": ["boolean"],
    "alpha": [Interval(float, 0, 0.25, closed="both")],
    "imbalance_penalty": [Interval(float, 0, None)],
    "ci_group_size": [Interval(int, 1, None)],
    "n_jobs": [None, Options({-1}), Interval(int, 1, None)],
    "device": DEVICE_CONSTRAINT,
    "split_search": [Options({"exact", "hist"})],
    "n_bins": [Interval(int, 2, MAX_BINS, closed="both")],
    "random_state": ["random_state"],
}


def normal_interval(estimate: np.ndarray, variance: np.ndarray, alpha: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``estimate +- z_{1 - alpha/2} sqrt(variance)``."""
    half = norm.ppf(1 - alpha / 2) * np.sqrt(variance)
    return estimate - half, estimate + half


class UnsplitForestWarning(UserWarning):
    """Most trees of a survival or causal survival forest are a single leaf: too few rows have
    events for the split rule's ``alpha``, and the forest's predictions barely depend on x."""


def warn_if_unsplit(forest: Any, event_fraction: float, alpha: float, who: str) -> bool:
    """Warn (:class:`UnsplitForestWarning`) when most trees of ``forest`` are one leaf while
    fewer than ``2 alpha`` of the rows have events; returns whether it warned.

    The survival and causal survival split rules (grf's) need at least ``ceil(alpha m)``
    events in each child of a node of ``m`` rows, which no split of a node with an event
    share below ``2 alpha`` has: with heavy censoring no tree splits at all, and every
    prediction is the same pooled estimate. grf documents this (grf-labs/grf#1072) but gives
    no message.
    """
    single = float(np.mean(np.diff(forest.node_offset) == 1))
    if single < 0.5 or event_fraction >= 2 * alpha:
        return False
    warnings.warn(
        f"{who}: {single:.0%} of the trees are a single leaf, so its estimates barely depend "
        f"on x. Only {event_fraction:.1%} of the rows have an event, and a split needs at "
        f"least alpha = {alpha:g} of a node's rows as events in each child (grf's rule); "
        "lower alpha (alpha=0 leaves only min_node_size) to let the trees split.",
        UnsplitForestWarning,
        stacklevel=user_stacklevel(),
    )
    return True


class BaseForest(BaseEstimator):
    """Honest generalized random forest: parameters (grf's defaults) and shared methods.

    Parameters
    ----------
    n_estimators : int, default 2000
        Number of trees; a multiple of ``ci_group_size``.
    sample_fraction : float, default 0.5
        Fraction of rows each tree subsamples, without replacement; at most 0.5 when
        ``ci_group_size >= 2`` (trees then subsample the half-sample of their group).
    mtry : int, optional
        Mean number of candidate features per split (each split draws Poisson(mtry), clamped
        to ``[1, p]``). Default ``min(ceil(sqrt(p) + 20), p)``.
    min_node_size : int, default 5
        Nodes with at most this many rows are not split.
    honesty : bool, default True
        Split on one part of each subsample, estimate leaf contents from the other.
    honesty_fraction : float, default 0.5
        Fraction of each subsample used for splitting.
    honesty_prune_leaves : bool, default True
        Remove leaves left without estimation rows (their parent is replaced by the sibling).
    alpha : float, default 0.05
        Split balance: the least share of the parent's rows (or, for causal splits, of its
        treatment sum of squares) each child gets.
    imbalance_penalty : float, default 0.0
        Penalty on unbalanced splits.
    ci_group_size : int, default 2
        Trees per little bag (half-sample); >= 2 enables variance estimates.
    n_jobs : int, optional
        numba threads (None: numba's current setting; -1: all). Results do not depend on it.
    device : {"auto", "cpu", "gpu"}, default "auto"
        Where predictions run (:mod:`survhte._device`). ``"auto"``: on a CUDA GPU when
        numba finds one (``numba.cuda.is_available()`` and libNVVM), else on the CPU (and on
        the CPU, with a ``DeviceWarning``, once the GPU kernels fail); ``"cpu"``: on the
        CPU; ``"gpu"``: on the GPU, and without one on the CPU with a ``DeviceWarning``.
        The GPU kernels (:mod:`survhte._kernels.forest_predict_cuda`) add the trees in the
        CPU kernels' order and round products apart from sums (no fused multiply-adds), so
        estimates, variances and forest weights (:meth:`get_forest_weights`) are the
        CPU's bit for bit. Trees are grown on the CPU, except with ``split_search="hist"``
        (then on the GPU's CUDA kernels, :mod:`survhte._kernels.forest_hist_cuda`, which
        grow the CPU histogram search's trees); the forest is copied to the GPU at each
        prediction (for survival curves see :class:`~survhte.forest.SurvivalForest`).
    split_search : {"exact", "hist"}, default "exact"
        How a node searches its splits. ``"exact"`` (grf's): between every two consecutive
        values of each candidate feature in the node. ``"hist"``: only between the
        ``n_bins`` quantile bins of each feature, computed once on the training rows
        (:mod:`survhte._kernels.forest_hist`, as LightGBM's and scikit-learn's histogram
        gradient boosting), with the same criterion, constraints, subsamples and random
        draws; thresholds are midpoints between bins on the feature's scale. A feature
        with at most ``n_bins`` distinct values loses nothing: with no feature above
        ``n_bins`` values the forest is the exact one, tree for tree. For the regression,
        causal and causal survival rules (and the regression forests of their
        nuisances); the multi-arm forests refuse it, and the survival forests (log-rank)
        search exactly.
    n_bins : int in [2, 256], default 256
        Bins per feature of ``split_search="hist"``.
    random_state : int, RandomState or None
        Seeds the forest; trees are seeded from it and their index only.
    """

    def __init__(
        self,
        n_estimators: int = 2000,
        *,
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
        self.n_estimators = n_estimators
        self.sample_fraction = sample_fraction
        self.mtry = mtry
        self.min_node_size = min_node_size
        self.honesty = honesty
        self.honesty_fraction = honesty_fraction
        self.honesty_prune_leaves = honesty_prune_leaves
        self.alpha = alpha
        self.imbalance_penalty = imbalance_penalty
        self.ci_group_size = ci_group_size
        self.n_jobs = n_jobs
        self.device = device
        self.split_search = split_search
        self.n_bins = n_bins
        self.random_state = random_state

    _parameter_constraints: ClassVar[dict] = FOREST_CONSTRAINTS

    def _validate_params(self) -> None:
        """Check every hyperparameter against ``_parameter_constraints`` (once, in ``fit``)."""
        validate_params(self)

    def _tree_params(self, n_features: int) -> TreeParams:
        """The tree parameters, after the checks between parameters (each parameter alone is
        checked by :meth:`_validate_params`); ``ValueError`` names the offending one."""
        group = self.ci_group_size
        if self.n_estimators % group:
            raise ValueError(
                f"n_estimators={self.n_estimators} must be a multiple of ci_group_size={group}."
            )
        if group > 1 and self.sample_fraction > 0.5:
            raise ValueError(f"sample_fraction must be a number in (0.0, 0.5] when "
                             f"ci_group_size >= 2; got {self.sample_fraction!r}.")
        if self.mtry is None:
            mtry = min(math.ceil(math.sqrt(n_features) + 20), n_features)
        else:
            mtry = int(self.mtry)
            if mtry > n_features:
                raise ValueError(f"mtry={mtry} exceeds the number of features {n_features}.")
        return TreeParams(
            sample_fraction=float(self.sample_fraction),
            mtry=mtry,
            min_node_size=int(self.min_node_size),
            honesty=bool(self.honesty),
            honesty_fraction=float(self.honesty_fraction),
            prune=bool(self.honesty_prune_leaves),
            alpha=float(self.alpha),
            imbalance_penalty=float(self.imbalance_penalty),
        )

    def _seeds(self, count: int) -> list[int]:
        """``count`` seeds drawn from ``random_state`` (the forest's, then nuisances').

        Drawn below 2**32 so that each is also a valid ``random_state`` of a nuisance forest.
        """
        rng = check_random_state(self.random_state)
        return [int(s) for s in rng.randint(0, 2**32, size=count, dtype=np.int64)]

    def _grow(self, X: np.ndarray, rule: GrowthRule, estimand: Estimand, seed: int) -> None:
        """Grow ``forest_`` and precompute the leaf values of ``estimand_``."""
        params = self._tree_params(X.shape[1])
        search = getattr(self, "split_search", "exact")
        if search == "hist" and rule.split_kind not in HIST_RULES:
            raise ValueError(
                f"split_search='hist' is not available for {type(self).__name__}'s splitting "
                "rule (histograms cover the regression, causal and causal survival rules); "
                "use split_search='exact'."
            )
        with numba_threads(self.n_jobs):
            def grow(device: str) -> Any:
                return grow_forest(X, rule, params, n_trees=self.n_estimators,
                                   ci_group_size=self.ci_group_size, seed=seed,
                                   split_search=search, n_bins=int(self.n_bins),
                                   device=device)

            # Histogram growth runs where the device resolves (the GPU kernels grow the CPU
            # reference's trees); exact growth on the CPU.
            self.forest_ = (self._on_device(grow) if search == "hist" else grow("cpu"))
            self.estimand_ = estimand
            self._leaf_values = estimand_leaf_values(self.forest_, estimand)

    def _on_device(self, run: Any) -> Any:
        """``run(device)`` with ``device`` the resolved ``"cpu"`` or ``"gpu"``
        (:func:`survhte._device.run_on_device`: ``"gpu"`` without a GPU warns and runs on
        the CPU; a failing GPU under ``"auto"`` warns and runs on the CPU)."""
        return run_on_device(getattr(self, "device", "auto"), run)

    def _predict(
        self, X: np.ndarray, *, oob: bool = False, variance: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Estimates at the rows of ``X`` and, with ``variance``, their little-bag variance."""
        return self._on_device(lambda device: self._predict_on(X, oob, variance, device))

    def _predict_on(self, X: np.ndarray, oob: bool, variance: bool, device: str
                    ) -> tuple[np.ndarray, np.ndarray | None]:
        with numba_threads(self.n_jobs), scatter_once():
            theta, means = predict_estimand(self.forest_, X, self.estimand_, self._leaf_values,
                                            oob=oob, device=device)
            if not variance:
                return theta, None
            return theta, predict_variance(self.forest_, X, self.estimand_, self._leaf_values,
                                           theta, means, oob=oob, device=device)

    def _set_training(self, X: np.ndarray, names: list[str], frame: bool | None = None) -> None:
        """Remember the training rows and their column names; ``frame``: whether ``fit`` was
        given a DataFrame (its column names are then checked at predict; ``None``: keep)."""
        if frame is not None:
            self._fitted_frame = frame
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self._X_train = X
        for cached in ("oob_prediction_", "oob_variance_"):
            self.__dict__.pop(cached, None)

    @cached_property
    def oob_prediction_(self) -> np.ndarray:
        """Out-of-bag estimates of the training rows (computed on first access).

        Row ``i`` uses only the trees whose subsample left it out; NaN if there is none.
        """
        self._check_fitted()
        return self._predict(self._X_train, oob=True)[0]

    @cached_property
    def oob_variance_(self) -> np.ndarray:
        """Little-bag variance of :attr:`oob_prediction_` (computed on first access)."""
        self._check_fitted()
        return self._predict(self._X_train, oob=True, variance=True)[1]

    def _check_fitted(self) -> None:
        check_is_fitted(self, "forest_")

    def _check_X(self, X: Any) -> np.ndarray:
        """``X`` at predict: fitted first, the fitted number of columns and, after a fit on a
        DataFrame, a DataFrame's column names in the fitted order (as scikit-learn)."""
        self._check_fitted()
        fitted = self.feature_names_in_ if vars(self).get("_fitted_frame", False) else None
        return check_covariates(X, n_features=self.n_features_in_, fitted_names=fitted)[0]

    def _estimate(self, X: Any) -> np.ndarray:
        return self._predict(self._check_X(X))[0]

    def predict_variance(self, X: Any) -> np.ndarray:
        """Variance estimate of the prediction at each row of ``X`` (little bags).

        Parameters
        ----------
        X : array-like of shape (m, p)

        Returns
        -------
        ndarray of shape (m,)
        """
        return self._predict(self._check_X(X), variance=True)[1]

    def predict_interval(self, X: Any, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise normal ``1 - alpha`` confidence interval of the prediction.

        ``prediction +- z_{1 - alpha/2} sqrt(predict_variance)``: the asymptotic normality of
        honest subsampled forests (Wager & Athey 2018, thm. 3.1; Athey, Tibshirani & Wager
        2019, thm. 5) with the little-bag variance.

        Parameters
        ----------
        X : array-like of shape (m, p)
        alpha : float, default 0.05

        Returns
        -------
        lower, upper : ndarrays of shape (m,)
        """
        return normal_interval(*self._predict(self._check_X(X), variance=True),
                               check_alpha(alpha))

    def get_forest_weights(self, X: Any = None) -> sparse.csr_matrix:
        """Forest weights ``alpha_i(x)`` of each row of ``X`` over the training rows.

        ``alpha_i(x) = (1 / B) sum_b 1{i in L_b(x)} / |L_b(x)|`` (Athey, Tibshirani & Wager
        2019, eq. (3)); each row sums to 1. ``X=None`` gives the out-of-bag weights of the
        training rows.

        Returns
        -------
        scipy.sparse.csr_matrix of shape (m, n_train)
        """
        if X is None:
            self._check_fitted()
            X, oob = self._X_train, True
        else:
            X, oob = self._check_X(X), False
        def weights(device: str) -> sparse.csr_matrix:
            with numba_threads(self.n_jobs):
                return weights_matrix(self.forest_, X, oob=oob, device=device)

        return self._on_device(weights)
