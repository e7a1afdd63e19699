"""Honest survival forest (grf's ``survival_forest``)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.utils.validation import check_is_fitted

from .._base import check_alpha
from .._kernels.forest_survival import (
    dense_single_leaves,
    forest_survival,
    leaf_histograms,
    survival_little_bags,
)
from .._params import InstanceOf, Interval, Options
from .._validation import (
    check_covariates,
    check_sample_weight,
    check_survival_outcome,
    check_time,
    check_time_event,
)
from ._base import FOREST_CONSTRAINTS, BaseForest, warn_if_unsplit
from ._engine import by_row_blocks, grow_forest, numba_threads, scatter_once
from ._strategies import survival_strategy
from ._variance import debias

PREDICTION_TYPES = ("kaplan-meier", "nelson-aalen")
#: Most times of :meth:`SurvivalForest.predict_survival`'s default grid (``prediction_times_``).
DEFAULT_PREDICTION_TIMES = 200
# Cap on the dense rows of single-leaf trees built per prediction call (64 MB of float64).
_DENSE_LEAF_VALUES = 1 << 23


_POSITIVE = Interval(float, 0, None, closed="neither")


def _check_horizon(horizon: Any) -> float:
    """``horizon`` of an RMST prediction: a positive finite number."""
    if not _POSITIVE.accepts(horizon):
        raise ValueError(f"horizon must be a positive finite number; got {horizon!r}.")
    return float(horizon)


def bounded_grid(times: np.ndarray, size: int = DEFAULT_PREDICTION_TIMES) -> np.ndarray:
    """``times`` (sorted, distinct) if there are at most ``size`` of them; otherwise ``size``
    of them at evenly spaced quantiles (ranks ``round(j (m - 1) / (size - 1))``), the first
    and the last included."""
    if times.size <= size:
        return times
    return times[np.unique(np.round(np.linspace(0, times.size - 1, size)).astype(np.int64))]


class SurvivalForest(BaseForest):
    """Honest survival forest: conditional survival curves ``S(t | x)`` from forest weights.

    Trees are grown on subsamples with the log-rank splitting rule (Ishwaran, Kogalur,
    Blackstone & Lauer 2008, "Random survival forests", Ann. Appl. Stat. 2(3)), honestly
    (Wager & Athey 2018, JASA), and the curve at ``x`` is the Kaplan-Meier (or Nelson-Aalen)
    estimator weighted by the forest weights ``alpha_i(x)`` (Athey, Tibshirani & Wager 2019,
    "Generalized random forests", Ann. Statist. 47(2)): grf's ``survival_forest`` (Cui,
    Kosorok, Sverdrup, Wager & Zhu 2023, JRSS-B, uses it for the nuisance curves of the causal
    survival forest).

    Observed times are discretised to the grid ``failure_times`` (default: the unique event
    times) as grf does: row ``i`` gets the index ``a_i`` of the last grid time at or below its
    time; an event between grid times counts as a failure at the grid time below it (one
    before the first grid time does not count). The curves are right-continuous step
    functions jumping at grid times, evaluated at any times. Memory is O(n + grid) beyond the
    trees: curves are computed per target row from its forest weights.

    Parameters
    ----------
    n_estimators : int, default 1000
        Number of trees (grf's ``num.trees``); a multiple of ``ci_group_size``.
    sample_fraction : float, default 0.5
    mtry : int, optional
        Default ``min(ceil(sqrt(p) + 20), p)``.
    min_node_size : int, default 15
        Nodes with at most this many rows are not split.
    honesty, honesty_fraction, honesty_prune_leaves : bool, float, bool
        As in :class:`~survhte.forest._base.BaseForest`.
    alpha : float, default 0.05
        Each child of a split holds at least ``max(ceil(alpha m), 1)`` failures (``m``: rows
        of the parent), as grf's ``SurvivalSplittingRule``. When fewer than ``2 alpha`` of
        the rows have events (heavy censoring) no split is admissible, every tree is one
        leaf and ``fit`` warns (:class:`~survhte.forest.UnsplitForestWarning`); lower
        ``alpha`` (0 leaves only ``min_node_size``).
    prediction_type : {"kaplan-meier", "nelson-aalen"}, default "kaplan-meier"
        Weighted Kaplan-Meier ``prod (1 - D_k / Y_k)`` or ``exp(-sum D_k / Y_k)``.
    failure_times : array-like, optional
        The time grid; default the unique event times of the training data.
    ci_group_size : int, default 2
        Trees per little bag; >= 2 enables :meth:`predict_variance`/:meth:`predict_interval`.
    n_jobs : int, optional
        numba threads; results do not depend on it.
    device : {"auto", "cpu", "gpu"}, default "auto"
        As :class:`~survhte.forest._base.BaseForest`. On a GPU, :meth:`predict_survival`,
        :meth:`predict_survival_oob` and :meth:`predict_rmst` run the numba.cuda twin of the
        curve kernel (:mod:`survhte._kernels.forest_survival_cuda`: one thread per target
        row, the CPU kernel's additions in its order, so the same curves bit for bit; a
        Nelson-Aalen curve up to the last bit of ``exp``); the variances, and the curves a
        causal survival forest reads for its scores, are computed on the CPU. A causal
        survival forest passes its own ``device`` to its nuisance survival forests.
    random_state : int, RandomState or None

    Attributes
    ----------
    forest_ : Forest
        The trees as flat arrays.
    failure_times_, unique_times_ : ndarray
        The grid (sorted); ``unique_times_`` is the survival-model interface's name for the
        times at which the curves may jump.
    prediction_times_ : ndarray
        The default times of :meth:`predict_survival`: ``failure_times_`` if it has at most
        200 times, else 200 of them at evenly spaced quantiles (the first and last included),
        so that the default curves take O(m x 200) memory whatever n (``times="all"`` asks
        for every grid time).
    n_features_in_, feature_names_in_

    Notes
    -----
    grf gives no confidence intervals for the survival forest (grf issue #750). Here
    :meth:`predict_variance` linearises ``S(t | x)`` (or its RMST) by the delta method in the
    forest-weighted failure and at-risk sums ``D_k``, ``Y_k`` (the Kaplan-Meier/Nelson-Aalen
    influence function at the weighted empirical measure), takes each tree's leaf mean of the
    per-row influence and applies grf's little-bag variance with its objective-Bayes
    debiasing. The interval is the resulting pointwise normal interval, clipped to the
    parameter's range; it has no proven coverage guarantee for curve functionals.

    Examples
    --------
    >>> import numpy as np
    >>> from survhte.forest import SurvivalForest
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(300, 3))
    >>> time = rng.exponential(1 / (1 + X[:, 0]))
    >>> event = rng.uniform(size=300) < 0.7
    >>> forest = SurvivalForest(n_estimators=50, random_state=0).fit(X, (time, event))
    >>> forest.predict_survival(X[:2], [0.5, 1.0]).shape
    (2, 2)
    """

    _parameter_constraints: ClassVar[dict] = {
        **{name: forms for name, forms in FOREST_CONSTRAINTS.items()
           if name not in ("imbalance_penalty", "split_search", "n_bins")},
        # not parameters of the log-rank split (searched exactly)
        "prediction_type": [Options(PREDICTION_TYPES)],
        "failure_times": [None, "array-like", InstanceOf((pd.Series, pd.Index)),
                          Interval(float, 0, None)],
    }

    def __init__(
        self,
        n_estimators: int = 1000,
        *,
        sample_fraction: float = 0.5,
        mtry: int | None = None,
        min_node_size: int = 15,
        honesty: bool = True,
        honesty_fraction: float = 0.5,
        honesty_prune_leaves: bool = True,
        alpha: float = 0.05,
        prediction_type: str = "kaplan-meier",
        failure_times: Any = None,
        ci_group_size: int = 2,
        n_jobs: int | None = None,
        device: str = "auto",
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
            ci_group_size=ci_group_size,
            n_jobs=n_jobs,
            device=device,
            random_state=random_state,
        )
        self.prediction_type = prediction_type
        self.failure_times = failure_times

    def fit(
        self, X: Any, y: Any, event: Any = None, sample_weight: Any = None
    ) -> SurvivalForest:
        """Grow the forest.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        y : survival outcome or array-like of shape (n,)
            Any form of :func:`survhte._validation.check_survival_outcome` (structured array,
            ``(time, event)`` tuple, ``(n, 2)`` array, DataFrame with ``time``/``event``);
            or, with ``event`` given, the observed times (the survival-model interface
            ``fit(X, time, event)`` of :mod:`survhte.survival_model_learners`).
        event : array-like of shape (n,), optional
            Event indicators when ``y`` holds the times.
        sample_weight : array-like of shape (n,), optional
            Case weights of the weighted Kaplan-Meier/Nelson-Aalen sums (the log-rank split is
            unweighted, as grf's).

        Returns
        -------
        self
        """
        self._validate_params()
        frame = isinstance(X, pd.DataFrame)
        X, names = check_covariates(X)
        if event is None:
            time, event = check_survival_outcome(y, n_samples=X.shape[0])
            weight = check_sample_weight(sample_weight, X.shape[0])
        else:
            time, event, weight = check_time_event(y, event, sample_weight)
            if time.shape[0] != X.shape[0]:
                raise ValueError(f"time has {time.shape[0]} rows but X has {X.shape[0]}.")
        weight = np.ones(X.shape[0]) if weight is None else weight
        grid = self._grid(time, event)
        index = np.searchsorted(grid, time, side="right").astype(np.int64)
        params = self._tree_params(X.shape[1])
        seed = self._seeds(1)[0]
        self._set_training(X, names, frame)
        rule = survival_strategy(index, event)
        with numba_threads(self.n_jobs):
            self.forest_ = grow_forest(X, rule, params, n_trees=self.n_estimators,
                                       ci_group_size=self.ci_group_size, seed=seed)
        self.failure_times_ = grid
        self.unique_times_ = grid
        self.prediction_times_ = bounded_grid(grid)
        self._nelson_aalen = self.prediction_type == "nelson-aalen"
        weight = np.ascontiguousarray(weight, dtype=np.float64)
        trees = self.forest_
        with numba_threads(self.n_jobs):
            self._hist = leaf_histograms(trees.leaf_start, trees.leaf_size, trees.node_offset,
                                         trees.leaf_samples, index, weight,
                                         np.where(event & (index >= 1), weight, 0.0))
        warn_if_unsplit(trees, float(np.mean(event)), params.alpha, "SurvivalForest")
        return self

    def _grid(self, time: np.ndarray, event: np.ndarray) -> np.ndarray:
        if self.failure_times is None:
            return np.unique(time[event])
        return np.unique(check_time(np.atleast_1d(self.failure_times), name="failure_times"))

    # Prediction -------------------------------------------------------------------------

    def _rows(self, X: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """The target rows and, out of bag (``X=None``: the training rows), their row ids."""
        check_is_fitted(self, "forest_")
        if X is None:
            return self._X_train, np.arange(self._X_train.shape[0], dtype=np.int64)
        return self._check_X(X), None

    def _kernel_args(self, X: np.ndarray, rows: np.ndarray | None = None, lean: bool = False
                     ) -> tuple[Any, ...]:
        """Kernel arguments; ``rows``: the training row of each row of ``X`` (out of bag).
        ``lean`` (CPU kernels): without ``rows`` the in-bag bits, which only out-of-bag
        predictions read, are an empty array (nothing to send to Dask workers)."""
        forest = self._forest_arrays()
        if lean and rows is None:
            forest = (*forest[:5], np.empty((self.forest_.n_trees, 0), dtype=np.uint8))
        oob_rows = np.empty(0, dtype=np.int64) if rows is None else rows
        return X, forest, self._histograms(), oob_rows, self.failure_times_

    def _histograms(self) -> tuple[np.ndarray, ...]:
        """The leaf histograms and, for the kernels' fast path, the dense rows of the
        single-leaf trees (``_kernels.forest_survival.dense_single_leaves``; built per call,
        at most ``_DENSE_LEAF_VALUES`` values, so the fitted model does not carry them)."""
        trees = self.forest_
        return self._hist + dense_single_leaves(trees.leaf_size, trees.node_offset, self._hist,
                                                self.failure_times_.size, _DENSE_LEAF_VALUES)

    def _forest_arrays(self) -> tuple[np.ndarray, ...]:
        trees = self.forest_
        return (trees.feature, trees.threshold, trees.left, trees.leaf_size, trees.node_offset,
                trees.inbag)

    def _curve_inputs(self, eval_times: np.ndarray) -> tuple[Any, ...]:
        """The nuisance tuple of ``_kernels.causal_survival_score.forest_scores``: forest
        arrays, leaf histograms, Nelson-Aalen?, and each failure index's 1-based position in
        ``eval_times`` of the first time at or after it (-1 past the last)."""
        to_eval = np.searchsorted(eval_times, self.failure_times_, side="left") + 1
        to_eval[self.failure_times_ > eval_times[-1]] = -1
        return (self._forest_arrays(), self._histograms(), self._nelson_aalen,
                np.concatenate([[-1], to_eval]).astype(np.int64))

    def _query(self, times: Any) -> tuple[np.ndarray, np.ndarray]:
        if times is None:
            times = self.prediction_times_
        elif isinstance(times, str):
            if times != "all":
                raise ValueError(f"times must be None, 'all' or an array of times; got "
                                 f"{times!r}.")
            times = self.failure_times_
        times = check_time(np.atleast_1d(times), name="times")
        return times, np.searchsorted(self.failure_times_, times, side="right").astype(
            np.int64)

    def predict_survival(self, X: Any = None, times: Any = None) -> np.ndarray:
        """Survival probabilities ``S(t | x)`` at ``times`` for each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (m, p), optional
            Target rows; ``None``: the training rows, out of bag (each row uses only the trees
            whose subsample left it out, as grf's ``predict`` without ``newdata``).
        times : array-like of shape (k,), "all" or None, default None
            Non-negative times, any order. ``None``: :attr:`prediction_times_` (at most 200
            grid times, at evenly spaced quantiles of the event times: a bounded output,
            m x 200, however many distinct event times there are); ``"all"``: every time of
            :attr:`failure_times_` (m x all event times: 2.4 GiB at m = 20,000 rows of
            continuous times).

        Returns
        -------
        ndarray of shape (m, k)
            Non-increasing in ``t`` and in ``[0, 1]``; NaN for a training row that every tree
            used (out of bag only).

        Examples
        --------
        >>> import numpy as np
        >>> from survhte.forest import SurvivalForest
        >>> rng = np.random.default_rng(0)
        >>> X = rng.uniform(size=(1000, 2))
        >>> y = (rng.exponential(size=1000), np.ones(1000, bool))
        >>> forest = SurvivalForest(50, random_state=0).fit(X, y)
        >>> forest.predict_survival(X[:3]).shape, forest.predict_survival(X[:3], "all").shape
        ((3, 200), (3, 1000))
        """
        X, rows = self._rows(X)
        return self._survival(X, rows, times)

    def _survival(self, X: np.ndarray, rows: np.ndarray | None, times: Any) -> np.ndarray:
        _, query = self._query(times)
        survival, _ = self._curves(X, rows, query, np.empty(0))
        return survival

    def _curves(self, X: np.ndarray, rows: np.ndarray | None, query: np.ndarray,
                horizons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``forest_survival``'s (survival at ``query``, RMST at ``horizons``), on the
        estimator's device (the CUDA twin on a GPU: the same numbers)."""
        def run(device: str) -> tuple[np.ndarray, np.ndarray]:
            if device == "gpu":
                from .._kernels.forest_survival_cuda import forest_survival_cuda

                return forest_survival_cuda(*self._kernel_args(X, rows), query, horizons,
                                            self._nelson_aalen)
            args = (*self._kernel_args(X, rows, lean=True), query, horizons,
                    self._nelson_aalen)
            with numba_threads(self.n_jobs):  # Dask: large X in row blocks on the workers
                return by_row_blocks(forest_survival, *args, rows=(0, 3))

        return self._on_device(run)

    def predict_survival_oob(self, X: Any, rows: Any, times: Any = None) -> np.ndarray:
        """Out-of-bag survival curves of training rows ``rows`` at covariates ``X``.

        Row ``j`` of the result is the curve at ``X[j]`` from only the trees whose subsample
        left training row ``rows[j]`` out: with ``X[j]`` the training covariates of that row,
        the out-of-bag prediction (``predict_survival(None, times)[rows]``); with modified
        covariates (e.g. a counterfactual treatment column), grf's out-of-bag prediction at
        them. Memory O(len(rows) x len(times)), so the training rows can be taken in blocks.

        Parameters
        ----------
        X : array-like of shape (m, p)
        rows : array-like of int, shape (m,)
            Training row indices (``0 <= rows < n_train``).
        times : array-like of shape (k,), "all" or None, default None
            As :meth:`predict_survival` (``None``: :attr:`prediction_times_`).

        Returns
        -------
        ndarray of shape (m, k)
            NaN for a row that every tree used.
        """
        X = self._check_X(X)
        rows = np.asarray(rows)
        if rows.shape != (X.shape[0],) or not (
                rows.size == 0 or np.issubdtype(rows.dtype, np.integer)):
            raise ValueError(f"rows must be {X.shape[0]} integer training row indices; got "
                             f"shape {rows.shape}, dtype {rows.dtype}.")
        if rows.size and (rows.min() < 0 or rows.max() >= self.forest_.n_train):
            raise ValueError(f"rows must lie in [0, {self.forest_.n_train}).")
        return self._survival(X, np.ascontiguousarray(rows, dtype=np.int64), times)

    def predict_rmst(self, X: Any = None, horizon: Any = None) -> np.ndarray:
        """Restricted mean survival time ``int_0^h S(t | x) dt``, integrated exactly.

        Parameters
        ----------
        X : array-like of shape (m, p), optional
            ``None``: the training rows, out of bag.
        horizon : float
            The horizon ``h > 0``.

        Returns
        -------
        ndarray of shape (m,)
        """
        value = _check_horizon(horizon)
        X, rows = self._rows(X)
        _, rmst = self._curves(X, rows, np.empty(0, np.int64), np.array([value]))
        return rmst[:, 0]

    def restricted_mean(self, X: Any, horizon: float) -> np.ndarray:
        """Alias of :meth:`predict_rmst` (the survival-model interface's name)."""
        return self.predict_rmst(X, horizon)

    def _little_bags(
        self, X: Any, times: Any, horizon: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """Estimates and variances, shape (m, k) for ``times`` or (m,) for ``horizon``."""
        if (times is None) == (horizon is None):
            raise ValueError("pass exactly one of times and horizon.")
        if self.ci_group_size < 2:
            raise ValueError(
                "variance estimates need ci_group_size >= 2 (trees grown in little bags); "
                f"this forest has ci_group_size={self.ci_group_size}."
            )
        X, rows = self._rows(X)
        if horizon is not None:
            targets = [(0, _check_horizon(horizon), True)]
        else:
            targets = [(int(q), 0.0, False) for q in self._query(times)[1]]
        estimates, variances = [], []
        args = self._kernel_args(X, rows, lean=True)
        with numba_threads(self.n_jobs), scatter_once():  # the forest sent to Dask once
            for query, value, rmst in targets:
                theta, between, noise, groups = by_row_blocks(
                    survival_little_bags, *args, query, value, rmst, self._nelson_aalen,
                    self.ci_group_size, rows=(0, 3))
                estimates.append(theta)
                variances.append(debias(between, noise, groups))
        if horizon is not None:
            return estimates[0], variances[0]
        return np.column_stack(estimates), np.column_stack(variances)

    def predict_variance(  # type: ignore[override]
        self, X: Any = None, times: Any = None, horizon: Any = None
    ) -> np.ndarray:
        """Little-bag variance of ``S(t | x)`` at ``times``, or of the RMST at ``horizon``.

        The delta-method linearisation described in the class notes, with grf's little-bag
        estimator (Athey, Tibshirani & Wager 2019, sec. 4; Sexton & Laake 2009).

        Parameters
        ----------
        X : array-like of shape (m, p), optional
            ``None``: the training rows, out of bag.
        times : array-like of shape (k,), optional
        horizon : float, optional
            Exactly one of ``times`` and ``horizon``.

        Returns
        -------
        ndarray of shape (m, k) (``times``) or (m,) (``horizon``)
        """
        return self._little_bags(X, times, horizon)[1]

    def predict_interval(  # type: ignore[override]
        self, X: Any = None, times: Any = None, horizon: Any = None, alpha: float = 0.05
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise normal ``1 - alpha`` interval of ``S(t | x)`` or of the RMST.

        ``estimate +- z_{1 - alpha/2} sqrt(variance)`` with :meth:`predict_variance`, clipped
        to ``[0, 1]`` (survival) or ``[0, horizon]`` (RMST). See the class notes: a
        linearised little-bag construction, not a method with a published coverage proof.

        Parameters
        ----------
        X : array-like of shape (m, p), optional
        times : array-like of shape (k,), optional
        horizon : float, optional
            Exactly one of ``times`` and ``horizon``.
        alpha : float, default 0.05

        Returns
        -------
        lower, upper : ndarrays of shape (m, k) or (m,)
        """
        alpha = check_alpha(alpha)
        estimate, variance = self._little_bags(X, times, horizon)
        half = norm.ppf(1 - alpha / 2) * np.sqrt(variance)
        high = 1.0 if horizon is None else _check_horizon(horizon)
        return (np.clip(estimate - half, 0.0, high), np.clip(estimate + half, 0.0, high))
