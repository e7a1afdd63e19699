"""Causal survival forest (Cui, Kosorok, Sverdrup, Wager & Zhu 2023; grf's
``causal_survival_forest``) on the generalized random forest engine.

Scores. With the default nuisance forests, each training row's out-of-bag curves
``S(t | X_i, w)`` (both arms) and ``C(t | X_i, W_i)`` are built and reduced to
``E[f(T) | X_i, w]`` and the score at once, on their jumps only
(``_kernels.causal_survival_score``): O(n) memory and O(jumps) work per row, where grf
evaluates every curve on the whole failure-time grid (O(n x grid) work; memory grf issue
#763). Plug-in nuisance models give curves on the grid: ``fit`` takes their rows in blocks of
about ``_BLOCK_VALUES / grid`` rows, so peak memory is O(n + block x grid).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.stats import norm
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from .._kernels.causal_survival_score import curve_scores, forest_scores
from .._nuisance import predict_propensity
from .._validation import (
    check_bool,
    check_horizon,
    check_sample_weight,
    check_target,
    check_time,
    default_horizon,
    validate_fit_inputs,
)
from .._warnings import user_stacklevel
from ..survival import check_survival_model
from ._base import BaseForest, UnsplitForestWarning, _check_int, warn_if_unsplit
from ._engine import numba_threads
from ._levels import (
    LevelForestsMixin,
    check_level_probabilities,
    fill_missing,
    indicator_propensities,
    weighted_mean_and_se,
)
from ._regression import RegressionForest
from ._strategies import causal_survival_strategy
from ._survival import SurvivalForest

_TARGET_POPULATIONS = ("all", "treated")
# Rows of a block of training rows for plug-in nuisances: block x (grid + 1) values (~64 MB)
# per curve matrix. Results do not depend on it (everything downstream is row-wise).
_BLOCK_VALUES = 1 << 23
# Above this many rows, a grid of more than a tenth of them draws a warning: the scores cost
# O(n x grid) (n = 5e5 with every distinct time: > 23 min; a 1,000-time grid: 12 min in all).
_LARGE_N = 100_000


def _forest_scores(X: np.ndarray, treated: np.ndarray, event_forest: SurvivalForest,
                   censoring_forest: SurvivalForest | None, eval_times: np.ndarray,
                   rounding: tuple[np.ndarray, ...], known: np.ndarray, f_value: np.ndarray,
                   w_hat: np.ndarray, target: str, style: str
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y_hat, bracket, C at Y)`` of the training rows from the default nuisance forests.

    Out-of-bag curves, row by row, reduced to the score at once by
    ``_kernels.causal_survival_score.forest_scores``: O(jumps) work per row, no curve on the
    grid is formed.
    """
    n = X.shape[0]
    X0 = np.column_stack([X, np.zeros(n)])
    X1 = np.column_stack([X, np.ones(n)])
    censored = censoring_forest is not None
    c_forest = censoring_forest if censored else event_forest
    nuisances = [part for forest in (event_forest, c_forest)
                 for part in forest._curve_inputs(eval_times)]
    c_limit = np.searchsorted(c_forest.failure_times_, rounding[0], side="right")
    with numba_threads(event_forest.n_jobs):
        y_hat, bracket, c_at_y = forest_scores(
            X0, X1, np.where(treated[:, None] > 0.5, X1, X0), treated,
            np.arange(n, dtype=np.int64), *nuisances, censored,
            c_limit.astype(np.int64), eval_times, *rounding, known, f_value, w_hat,
            target == "rmst", style == "grf")
    return y_hat, bracket, c_at_y


def _curve_scores(X: np.ndarray, treated: np.ndarray, event_nuisance: _Nuisance,
                  censoring_nuisance: _Nuisance | None, eval_times: np.ndarray,
                  rounding: tuple[np.ndarray, ...], known: np.ndarray, f_value: np.ndarray,
                  w_hat: np.ndarray, target: str, style: str, n_jobs: int | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_forest_scores`` for plug-in nuisances: their held-out curves on the grid, block of
    rows by block (O(block x grid) memory), reduced by ``curve_scores``."""
    n = X.shape[0]
    grid = eval_times[:-1]
    y_hat, bracket, c_at_y = np.empty(n), np.empty(n), np.empty(n)
    step = max(1, _BLOCK_VALUES // eval_times.size)
    for start in range(0, n, step):
        block = slice(start, min(n, start + step))
        size = block.stop - block.start
        s0, s1 = (event_nuisance.curves(X, np.full(size, code), block, eval_times)
                  for code in (0.0, 1.0))
        c_obs = (np.ones((size, grid.size)) if censoring_nuisance is None
                 else censoring_nuisance.curves(X, treated[block], block, grid))
        with numba_threads(n_jobs):
            y_hat[block], bracket[block], c_at_y[block] = curve_scores(
                s0, s1, c_obs, treated[block], eval_times, *(r[block] for r in rounding),
                known[block], f_value[block], w_hat[block], target == "rmst", style == "grf")
    return y_hat, bracket, c_at_y


def _folds(n_folds: int, seed: int, strata: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-fitting folds stratified by ``strata``; one fold: all rows both ways."""
    rows = np.arange(strata.shape[0])
    if n_folds == 1:
        return [(rows, rows)]
    split = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    return list(split.split(rows, strata))


class _Nuisance:
    """A fitted survival nuisance on ``(X, W)`` and its held-out curves on blocks of rows.

    ``fold_of is None``: one survival forest, out of bag (grf); otherwise one model per
    cross-fitting fold and ``fold_of[i]`` the fold holding row ``i`` out.
    """

    def __init__(self, fitted: Any, fold_of: np.ndarray | None) -> None:
        self.fitted = fitted
        self.fold_of = fold_of

    def curves(self, X: np.ndarray, w: np.ndarray, block: slice, times: np.ndarray
               ) -> np.ndarray:
        """Held-out curves at ``times`` of training rows ``block`` with treatment ``w``.

        Forest: row ``i`` uses only the trees whose subsample left training row ``i`` out
        (:meth:`SurvivalForest.predict_survival_oob`), at the treatment ``w`` (observed or
        counterfactual); a row that every tree used (NaN) gets the all-trees curve.
        Plug-in: each row from the model of the fold that held it out.
        """
        Xw = np.column_stack([X[block], w])
        if self.fold_of is None:
            model = self.fitted
            rows = np.arange(block.start, block.stop, dtype=np.int64)
            out = model.predict_survival_oob(Xw, rows, times)
            missing = np.isnan(out).any(axis=1)
            if missing.any():
                out[missing] = model.predict_survival(Xw[missing], times)
            return out
        out = np.empty((Xw.shape[0], times.size))
        folds = self.fold_of[block]
        for fold, model in enumerate(self.fitted):
            mine = folds == fold
            if mine.any():
                out[mine] = model.predict_survival(Xw[mine], times)
        return out


class CausalSurvivalForest(LevelForestsMixin, BaseForest):
    r"""Causal survival forest: heterogeneous effects on a censored survival outcome.

    Estimand, for ``f(T) = min(T, h)`` (``target="rmst"``) or ``f(T) = 1{T > h}``
    (``target="survival"``) and two treatment levels (more below):

    .. math:: \tau(x) = E[f(T(1)) - f(T(0)) \mid X = x],

    the conditional RMST difference up to the horizon ``h`` or the survival-probability
    difference at ``h``. Under unconfoundedness, censoring independent of ``T`` given
    ``(X, W)`` and positivity of treatment and of follow-up to ``h``, ``tau(x)`` solves the
    doubly robust estimating equation of Cui et al. (2023)
    ``E[psi_i - tau(x) (W_i - e(X_i))^2 | X_i = x] = 0`` with the censoring-augmented score

    .. math::

        \psi_i = (W_i - e_i) \Big[\frac{\Delta_i (f(Y_i) - m_i)}{C_i(Y_i-)}
                 + \frac{(1 - \Delta_i)(Q_i(Y_i) - m_i)}{C_i(Y_i)}
                 - \int_0^{Y_i} \frac{Q_i(t) - m_i}{C_i(t)} \, d\Lambda_{C,i}(t)\Big],

    where ``Y, Delta`` are the horizon-truncated time and event (RMST: rows with ``Y >= h``
    become events at ``h``; survival: rows with ``Y > h``), ``e`` the propensity,
    ``m = e E[f | x, 1] + (1 - e) E[f | x, 0]``, ``Q(t) = E[f(T) | X, W, T > t]`` from the
    event survival curves ``S(t | x, w)``, and ``C`` the censoring survival curves. The forest
    estimate is the ratio of forest-weighted sums
    ``tau(x) = sum_i alpha_i(x) psi_i / sum_i alpha_i(x) (W_i - e_i)^2``, with trees grown on
    grf's causal survival relabeling and splitting rule (each child needs ``min_node_size``
    rows on either side of the node's mean centred treatment and at least
    ``max(ceil(alpha m), 1)`` events). Pointwise intervals by little bags; the average effect
    (overall or on the treated) by grf's doubly robust scores.

    More than two treatment levels (codes 0..K, 0 the control; grf's forest takes two):
    level ``k``'s effect ``E[f(T(k)) - f(T(0)) | X = x]`` gets its own forest
    (``arm_forests_[k - 1]``), fitted as above on the rows of levels 0 and ``k`` with the
    propensity ``e_k(x) / (e_0(x) + e_k(x))`` from the propensities of all levels. Under
    unconfoundedness the effect at ``x`` is the same on those rows as on all, so each forest
    estimates ``tau_k(x)``; ``predict`` stacks them, (n, K). The average effects reweight each
    level's doubly robust corrections to all rows (:meth:`ate`).

    Nuisances (all out of fold or out of bag), grf's defaults:

    - ``e(x)``: a regression forest of ``W`` (``max(50, n_estimators // 4)`` trees), OOB;
      with more levels, one per level indicator, normalised to sum 1;
    - ``S(t | x, w)`` and ``C(t | x, w)``: survival forests on ``(X, W)`` (Nelson-Aalen leaf
      curves, ``max(50, min(n_estimators // 4, 500))`` trees, ``min_node_size=15``), OOB on the
      training rows, evaluated at ``w = 1``, ``w = 0`` and the observed ``W_i``.

    Each may be replaced (grf #1410): ``propensity`` a known probability or any classifier;
    ``event_model``/``censoring_model`` any object of the survival-model interface
    (:mod:`survhte.survival.SurvivalModel`), fitted as an S-learner on ``(X, W)``
    (``W`` as the last column) and cross-fitted over ``n_folds`` folds.

    The score's censoring integral is discretised as grf's (``score_discretization="grf"``)
    or as :class:`survhte.inference.AIPCW`'s (``"aipcw"``: then exactly
    ``psi_i = (W_i - e_i)(U_i - m_i)`` with AIPCW's transformation ``U``).

    Parameters
    ----------
    n_estimators : int, default 2000
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, optional
        ``h``. Default: the smallest arm's last observed time
        (:func:`survhte._validation.default_horizon`).
    failure_times : array-like, optional
        Time grid for the nuisance curves (grf's ``failure.times``), also given to the default
        event and censoring survival forests, as grf does: observed times are rounded down to
        it. Default: every distinct observed time up to ``h``. Each row's out-of-bag censoring
        curve has up to one jump per grid time, so with ``n`` rows of continuous times the
        score costs O(n x grid) (quadratic in ``n``; grf: the same time and O(n x grid)
        memory); from about 10^5 rows a grid of a few thousand times keeps it linear.
    propensity : None, float, array-like or classifier, default None
        ``None``: OOB regression forest; a float or an array of shape (n,): known
        ``P(W = 1 | X_i)``; with K + 1 > 2 levels, known ``P(W = k | X_i)`` of shape (K + 1,)
        or (n, K + 1), rows summing to 1; a classifier with ``predict_proba``: cross-fitted.
    event_model, censoring_model : None or survival model, default None
        ``None``: survival forests (OOB). Otherwise cross-fitted S-learners on ``(X, W)``.
    n_folds : int, default 5
        Cross-fitting folds of plug-in nuisance models; 1 fits and evaluates them on all rows
        (no cross-fitting: for parametric nuisances and exact checks).
    stabilize_splits : bool, default True
        grf's ``stabilize.splits``: the causal survival split constraints (False: plain
        variance splits on the relabeled score).
    score_discretization : {"grf", "aipcw"}, default "grf"
        How the score's censoring integral is discretised on the grid. ``"grf"``: grf's
        ``compute_psi`` (``C(Y)`` for every row, ``dLambda_C`` the forward difference of
        ``-log C``). ``"aipcw"``: the telescoping increments ``1/C(t_k) - 1/C(t_{k-1})`` and
        ``C(Y-)`` for an event (an event at a censoring time comes first); the score is then
        exactly ``(W_i - e_i)(U_i - m_i)`` with ``U`` the transformation of
        :class:`survhte.inference.AIPCW`. The two agree to first order in the censoring
        hazard's steps; they differ with tied (discrete) times or large steps of ``C``.
    sample_fraction, mtry, min_node_size, honesty, honesty_fraction, honesty_prune_leaves,
    alpha, imbalance_penalty, ci_group_size, n_jobs, random_state
        As :class:`~survhte.forest._base.BaseForest` (grf's defaults). ``alpha`` also sets
        the split rule's event constraint (each child keeps ``ceil(alpha m)`` rows with an
        event or followed to ``h``) and the nuisance forests'; with fewer than ``2 alpha`` of
        such rows (heavy censoring) the trees cannot split, and ``fit`` warns
        (:class:`~survhte.forest.UnsplitForestWarning`): lower ``alpha``.

    Attributes
    ----------
    classes_ : ndarray
        Treatment labels; ``classes_[0]`` is the control.
    horizon_ : float
    w_hat_ : ndarray of shape (n,), or (n, K + 1) with K > 1 treated levels
        ``e(X_i)``; with K > 1, ``P(W = k | X_i)`` of each level.
    arm_forests_ : list of CausalSurvivalForest, only with K > 1 treated levels
        Level ``classes_[k]``'s two-level forest (on the rows of levels 0 and ``k``), which
        holds the attributes below; the others are a two-level fit's.
    failure_times_ : ndarray
        The grid of the nuisance curves (starts at 0).
    y_hat_ : ndarray of shape (n,)
        ``m(X_i) = E[f(T) | X_i]``.
    psi_numerator_, psi_denominator_ : ndarrays of shape (n,)
        ``psi_i`` and ``(W_i - e_i)^2`` (grf's ``_psi``).
    censoring_at_y_ : ndarray of shape (n,)
        ``C(Y_i | X_i, W_i)`` used in the score.
    event_model_ : fitted model or list of fitted fold models
        The event nuisance, for :meth:`predict_survival`.
    oob_prediction_, oob_variance_ : ndarrays of shape (n,), or (n, K)
        With K > 1, column ``k - 1`` is out of bag on the rows of levels 0 and ``k`` and the
        whole forest's estimate on the others.

    References
    ----------
    Cui, Y., Kosorok, M. R., Sverdrup, E., Wager, S. & Zhu, R. (2023). Estimating heterogeneous
    treatment effects with right-censored data via causal survival forests. *JRSS-B*, 85(2),
    179-211.
    Athey, S., Tibshirani, J. & Wager, S. (2019). Generalized random forests. *Ann. Statist.*,
    47(2), 1148-1178.

    Examples
    --------
    >>> from survhte.simulate import survhte_bench
    >>> from survhte.forest import CausalSurvivalForest
    >>> d = survhte_bench("RCT-50", "A", n=600, random_state=0)
    >>> csf = CausalSurvivalForest(n_estimators=100, horizon=1.0, random_state=0)
    >>> tau = csf.fit(d.X, d.y, d.w).predict(d.X[:3])
    """

    def __init__(
        self,
        n_estimators: int = 2000,
        *,
        target: str = "rmst",
        horizon: float | None = None,
        failure_times: Any = None,
        propensity: Any = None,
        event_model: Any = None,
        censoring_model: Any = None,
        n_folds: int = 5,
        stabilize_splits: bool = True,
        score_discretization: str = "grf",
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
            random_state=random_state,
        )
        self.target = target
        self.horizon = horizon
        self.failure_times = failure_times
        self.propensity = propensity
        self.event_model = event_model
        self.censoring_model = censoring_model
        self.n_folds = n_folds
        self.stabilize_splits = stabilize_splits
        self.score_discretization = score_discretization

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any, w: Any, *, sample_weight: Any = None) -> CausalSurvivalForest:
        """Fit the nuisances, compute the scores and grow the forest (one per treated level).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        y : structured array (event, time), tuple (time, event), (n, 2) array or DataFrame
        w : array-like of shape (n,)
            Treatment: codes 0..K (0 = control) or labels (the first sorted label is the
            control). With K > 1 treated levels, level ``k``'s forest is fitted on the rows
            of levels 0 and ``k`` (see the class notes).
        sample_weight : array-like of shape (n,), optional
            Case weights of the forest, the propensity forest, the default event and
            censoring survival forests (their weighted Nelson-Aalen curves; the log-rank
            splits are unweighted), as grf passes ``sample.weights`` to all of them, and of
            the average effects. Plug-in ``event_model``/``censoring_model`` are fitted
            unweighted.

        Returns
        -------
        self
        """
        check_target(self.target)
        X, names, time, event, codes, classes = validate_fit_inputs(X, y, w)
        n_folds = self._check_settings(X.shape[1])[2]
        given_weight = check_sample_weight(sample_weight, X.shape[0])
        self._clear_fit()
        if classes.size > 2:
            return self._fit_arms(X, names, time, event, codes, classes, given_weight, n_folds)
        return self._fit_binary(X, names, time, event, codes, classes, given_weight)

    def _check_settings(self, n_features: int) -> tuple[bool, str, int]:
        """Validate the parameters: ``(stabilize_splits, score_discretization, n_folds)``."""
        self._tree_params(n_features)
        stabilize = check_bool(self.stabilize_splits, "stabilize_splits")
        style = self.score_discretization
        if style not in ("grf", "aipcw"):
            raise ValueError(
                f"score_discretization must be 'grf' or 'aipcw'; got {style!r}."
            )
        return stabilize, style, _check_int(self.n_folds, "n_folds", 1)

    def _fit_binary(self, X: np.ndarray, names: list[str], time: np.ndarray,
                    event: np.ndarray, codes: np.ndarray, classes: np.ndarray,
                    given_weight: np.ndarray | None, w_hat: np.ndarray | None = None
                    ) -> CausalSurvivalForest:
        """``fit`` on validated data with two levels; ``w_hat``: propensities to use as given
        (a treated level's share of its two levels, from ``_fit_arms``)."""
        target = check_target(self.target)
        n, p = X.shape
        stabilize, style, n_folds = self._check_settings(p)
        params = self._tree_params(p)
        weight = np.ones(n) if given_weight is None else given_weight
        horizon = self._horizon(time, codes)
        self.classes_ = classes
        self.horizon_ = horizon
        treated = codes.astype(np.float64)

        # Outcome of interest and the data the survival nuisances see (grf's preprocessing).
        if target == "rmst":
            f_value = np.minimum(time, horizon)
            nuis_time = f_value
            nuis_event = event | (time >= horizon)
        else:
            f_value = (~(event & (time <= horizon))).astype(np.float64)
            nuis_time, nuis_event = time, event
        grid = self._grid(nuis_time, horizon)
        self.failure_times_ = grid
        if n > _LARGE_N and grid.size > 0.1 * n:
            warnings.warn(
                f"{grid.size} grid times for {n} rows: each row's out-of-bag nuisance curves "
                "jump up to once per grid time, so the scores cost O(n x grid), quadratic in "
                "n. Pass failure_times (e.g. 1,000 quantiles of the observed times, starting "
                "at the first) to keep it linear, as grf advises.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )

        seed_forest, seed_w, seed_s, seed_c, seed_folds = self._seeds(5)
        self.w_hat_ = (self._propensity(X, codes, weight, seed_w, seed_folds, n_folds)[:, 1]
                       if w_hat is None else w_hat)
        w_centered = treated - self.w_hat_

        # Nuisance survival models: the event model (its curves give E[f | x, w] in both arms
        # and S(t | x, W_i)) and the censoring model (C(t | x, W_i)).
        event_nuisance = self._nuisance(
            self.event_model, "event_model", X, treated, nuis_time, nuis_event, given_weight,
            seed_s, seed_folds, n_folds, params.mtry)
        self.event_model_ = event_nuisance.fitted
        if event_nuisance.fold_of is None:
            warn_if_unsplit(event_nuisance.fitted.forest_, float(np.mean(nuis_event)),
                            params.alpha, "CausalSurvivalForest's event survival forest")
        censoring_nuisance = None
        if nuis_event.all():  # no censoring (before the horizon): C = 1
            if self.censoring_model is not None:
                check_survival_model(self.censoring_model, "censoring_model")
        else:
            censoring_nuisance = self._nuisance(
                self.censoring_model, "censoring_model", X, treated, nuis_time, ~nuis_event,
                given_weight, seed_c, seed_folds, n_folds, params.mtry)

        # Truncation for the score (survival target: after the nuisances, as grf).
        known = event | (time >= horizon)
        y_trunc = np.minimum(time, horizon)
        eval_times = np.append(grid, horizon)
        k_right = np.searchsorted(grid, y_trunc, side="right") - 1  # largest grid time <= Y
        k_left = np.searchsorted(grid, y_trunc, side="left") - 1  # largest grid time < Y
        rounding = (grid[k_right], grid[np.maximum(k_left, 0)], k_left >= 0)
        if event_nuisance.fold_of is None and (censoring_nuisance is None
                                               or censoring_nuisance.fold_of is None):
            y_hat, bracket, c_at_y = _forest_scores(
                X, treated, event_nuisance.fitted,
                None if censoring_nuisance is None else censoring_nuisance.fitted,
                eval_times, rounding, known, f_value, self.w_hat_, target, style)
        else:
            y_hat, bracket, c_at_y = _curve_scores(
                X, treated, event_nuisance, censoring_nuisance, eval_times, rounding, known,
                f_value, self.w_hat_, target, style, self.n_jobs)
        self.y_hat_ = y_hat
        self.censoring_at_y_ = c_at_y
        self._warn_censoring(c_at_y, target)
        numerator = w_centered * bracket
        if not np.all(np.isfinite(numerator)):
            raise ValueError(
                "the causal survival scores are not finite: a censoring or event survival "
                "estimate is 0 where the score divides by it; choose an earlier horizon or "
                "a censoring model with positive curves."
            )
        self.psi_numerator_ = numerator
        self.psi_denominator_ = w_centered * w_centered
        self._treated, self._weight = treated, weight
        self._set_training(X, names)
        rule, estimand = causal_survival_strategy(numerator, w_centered, known, weight,
                                                  stabilize_splits=stabilize)
        self._grow(X, rule, estimand, seed_forest)
        warn_if_unsplit(self.forest_, float(np.mean(known)), params.alpha,
                        "CausalSurvivalForest")
        return self

    def _fit_arms(self, X: np.ndarray, names: list[str], time: np.ndarray, event: np.ndarray,
                  codes: np.ndarray, classes: np.ndarray, given_weight: np.ndarray | None,
                  n_folds: int) -> CausalSurvivalForest:
        """One two-level forest per treated level (``LevelForestsMixin``) at a common
        horizon."""
        horizon = self._horizon(time, codes)
        seed_w, seed_folds, *level_seeds = self._seeds(classes.size + 1)
        weight = np.ones(X.shape[0]) if given_weight is None else given_weight
        propensities = self._propensity(X, codes, weight, seed_w, seed_folds, n_folds)

        def fit_level(forest: CausalSurvivalForest, rows: np.ndarray, level_codes: np.ndarray,
                      level_classes: np.ndarray, share: np.ndarray) -> None:
            forest.set_params(horizon=horizon)._fit_binary(
                X[rows], names, time[rows], event[rows], level_codes, level_classes,
                None if given_weight is None else given_weight[rows], share)

        self._fit_levels(X, names, codes, classes, weight, propensities, level_seeds, fit_level)
        self.horizon_ = horizon
        return self

    def _horizon(self, time: np.ndarray, codes: np.ndarray) -> float:
        """``horizon``, checked, or the smallest arm's last observed time."""
        if self.horizon is None:
            return default_horizon(time, codes)
        return check_horizon(self.horizon, time)

    def _grid(self, nuis_time: np.ndarray, horizon: float) -> np.ndarray:
        """0 and the grid times up to the horizon (all distinct observed times by default)."""
        if self.failure_times is None:
            times = nuis_time
        else:
            times = check_time(np.atleast_1d(np.asarray(self.failure_times, dtype=np.float64)),
                               name="failure_times")
            if np.any(np.diff(times) <= 0):
                raise ValueError("failure_times must be strictly increasing.")
            if times[0] > nuis_time.min():
                raise ValueError(
                    f"failure_times must start on or before the first time "
                    f"{nuis_time.min():g}; it starts at {times[0]:g}."
                )
        grid = np.unique(np.concatenate([[0.0], times[times <= horizon]]))
        if np.unique(nuis_time).size <= 2 or grid.size < 2:
            raise ValueError(
                "the number of distinct times before the horizon should be more than 2; "
                f"got grid {grid.tolist()[:5]} for horizon={horizon:g}."
            )
        return grid

    def _propensity(self, X: np.ndarray, codes: np.ndarray, weight: np.ndarray, seed: int,
                    seed_folds: int, n_folds: int) -> np.ndarray:
        """``P(W = level | X_i)`` of each row and level, shape (n, levels), from ``propensity``.

        ``None``: out-of-bag regression forests of the level indicators (grf's ``W.hat``; one
        forest for two levels, else one per level, rows normalised to sum 1); a classifier:
        cross-fitted ``predict_proba``; numbers: checked as given.
        """
        spec = self.propensity
        n, levels = X.shape[0], int(codes.max()) + 1
        if spec is None:
            def propensity_forest(forest_seed: int) -> RegressionForest:
                return RegressionForest(
                    n_estimators=max(50, self.n_estimators // 4),
                    sample_fraction=self.sample_fraction, mtry=self.mtry, min_node_size=5,
                    alpha=self.alpha, imbalance_penalty=self.imbalance_penalty,
                    ci_group_size=1, n_jobs=self.n_jobs, random_state=forest_seed,
                )

            if levels > 2:
                return indicator_propensities(X, codes, weight, seed, propensity_forest)
            e = propensity_forest(seed).fit(X, codes.astype(np.float64),
                                            sample_weight=weight).oob_prediction_
            return np.column_stack([1 - e, e])
        if hasattr(spec, "predict_proba"):
            e = np.empty((n, levels))
            for train, test in _folds(n_folds, seed_folds, codes):
                model = clone(spec).fit(X[train], codes[train])
                e[test] = predict_propensity(model, X[test], levels)
            return e
        message = ("propensity must be None, a classifier with predict_proba or "
                   f"probabilities; got {type(spec).__name__}.")
        if isinstance(spec, (str, bool)):
            raise TypeError(message)
        if levels > 2:
            return check_level_probabilities(spec, n, levels, "propensity")
        try:
            values = np.asarray(spec, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(message) from None
        values = np.full(n, float(values)) if values.ndim == 0 else values
        if values.shape != (n,):
            raise ValueError(f"propensity must be a number or have shape ({n},); got "
                             f"{values.shape}.")
        if not np.all((values > 0) & (values < 1)):
            raise ValueError("propensity must lie strictly between 0 and 1.")
        return np.column_stack([1 - values, values])

    def _nuisance(self, spec: Any, name: str, X: np.ndarray, treated: np.ndarray,
                  time: np.ndarray, event: np.ndarray, weight: np.ndarray | None, seed: int,
                  seed_folds: int, n_folds: int, mtry: int) -> _Nuisance:
        """Fit a survival nuisance on ``(X, W)``: the default survival forest (out-of-bag
        curves, case weights ``weight``) or ``spec`` cross-fitted over ``n_folds`` folds
        (out-of-fold curves, unweighted)."""
        Xw = np.column_stack([X, treated])
        if spec is None:
            model = SurvivalForest(
                n_estimators=max(50, min(self.n_estimators // 4, 500)),
                sample_fraction=self.sample_fraction, mtry=mtry, min_node_size=15,
                failure_times=self.failure_times,  # as grf: times round down to the grid
                alpha=self.alpha, prediction_type="nelson-aalen", ci_group_size=1,
                n_jobs=self.n_jobs, random_state=seed,
            )
            with warnings.catch_warnings():
                # An unsplit censoring forest is the pooled censoring curve, as an analysis
                # of a trial assumes; the event forest's is reported by ``fit``.
                warnings.simplefilter("ignore", UnsplitForestWarning)
                model.fit(Xw, time, event, sample_weight=weight)
            return _Nuisance(model, None)
        check_survival_model(spec, name)
        fold_of = np.empty(X.shape[0], dtype=np.int64)
        models = []
        for fold, (train, test) in enumerate(
                _folds(n_folds, seed_folds, 2 * treated.astype(int) + event)):
            models.append(clone(spec).fit(Xw[train], time[train], event[train]))
            fold_of[test] = fold
        return _Nuisance(models, fold_of)

    @staticmethod
    def _warn_censoring(c_at_y: np.ndarray, target: str) -> None:
        low = float(np.min(c_at_y))
        strong, mild = (0.05, 0.2) if target == "rmst" else (0.001, 0.05)
        if low < mild:
            warnings.warn(
                f"estimated censoring survival C(Y_i | X_i, W_i) goes as low as {low:.3g}"
                f"{' (below ' + str(strong) + ')' if low <= strong else ''}: the forest "
                "needs P(follow-up past the horizon | X) bounded away from 0; estimates may be "
                "unstable. A smaller horizon helps.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )

    # ------------------------------------------------------------- predict
    def predict_survival(self, X: Any, w: Any, times: Any) -> np.ndarray:
        """Counterfactual survival curves ``S(t | x, w)`` of the event nuisance (grf #1499).

        Parameters
        ----------
        X : array-like of shape (m, p)
        w : treatment label (one of ``classes_``) or array-like of shape (m,) of labels
        times : array-like of shape (k,)

        Returns
        -------
        ndarray of shape (m, k)
            For plug-in models, the mean of the cross-fitted fold models' curves. With K > 1
            treated levels, level ``k``'s curves come from ``arm_forests_[k - 1]``, the
            control's from ``arm_forests_[0]``.
        """
        X = self._check_X(X)
        times = check_time(np.atleast_1d(times), name="times")
        labels = np.broadcast_to(np.asarray(w, dtype=object), (X.shape[0],))
        known = list(self.classes_.tolist())
        bad = [v for v in set(labels.tolist()) if v not in known]
        if bad:
            raise ValueError(f"w has level(s) {bad} not seen in fit; known: {known}.")
        codes = np.array([known.index(v) for v in labels.tolist()], dtype=np.int64)
        arms = self._arms
        if arms is None:
            Xw = np.column_stack([X, codes.astype(np.float64)])
            models = self.event_model_ if isinstance(self.event_model_, list) else [
                self.event_model_]
            return np.mean([m.predict_survival(Xw, times) for m in models], axis=0)
        out = np.empty((X.shape[0], times.size))
        for code in np.unique(codes):
            mine = codes == code
            arm = arms[max(code, 1) - 1]
            out[mine] = arm.predict_survival(X[mine], arm.classes_[min(code, 1)], times)
        return out

    # ------------------------------------------------------ average effects
    def _check_population(self, target_population: str) -> str:
        if target_population not in _TARGET_POPULATIONS:
            raise ValueError(
                f"target_population must be one of {_TARGET_POPULATIONS}; "
                f"got {target_population!r}."
            )
        return target_population

    def _average(self, target_population: str) -> tuple[Any, Any]:
        """grf's doubly robust ``average_treatment_effect``: (estimate, standard error), floats
        for two levels, arrays over the treated levels otherwise."""
        self._check_fitted()
        population = self._check_population(target_population)
        arms = self._arms
        if arms is None:
            tau = fill_missing(self.oob_prediction_)
            if population == "all":
                return weighted_mean_and_se(tau + self._correction(tau), self._weight)
            return self._average_on_treated(tau)
        if population == "treated":  # E[. | W = k] is the same on level k's rows alone
            return tuple(np.array(column) for column in zip(
                *(arm._average("treated") for arm in arms), strict=True))
        return weighted_mean_and_se(self._level_scores(), self._weight)

    def _correction(self, tau: np.ndarray) -> np.ndarray:
        """The doubly robust correction ``psi_i(tau_i) / (e_i (1 - e_i))`` of a two-level fit
        (``psi_i(tau) = psi_numerator_i - psi_denominator_i tau``) at its rows' effects."""
        return self._psi(tau) / (self.w_hat_ * (1 - self.w_hat_))

    def _psi(self, tau: np.ndarray) -> np.ndarray:
        e = self.w_hat_
        if np.any((e <= 0) | (e >= 1)):
            raise ValueError(
                "w_hat_ has values at 0 or 1: overlap fails and the doubly robust average "
                "effect is undefined."
            )
        return self.psi_numerator_ - self.psi_denominator_ * tau

    def _average_on_treated(self, tau: np.ndarray) -> tuple[float, float]:
        """ATT of a two-level fit: ``E[tau(X) | W = 1]`` plus the normalised-IPW correction of
        the outcome residuals ``R_i = psi_i / (W_i - e_i)``, treated weight 1, control weight
        ``e / (1 - e)`` (grf #1508)."""
        e, weight = self.w_hat_, self._weight
        residual = self._psi(tau) / (self._treated - e)
        t = self._treated == 1
        tw = weight[t]
        raw = float(np.average(tau[t], weights=tw))
        raw_var = float(np.sum(tw**2 * (tau[t] - raw) ** 2) / tw.sum() ** 2)
        gamma = np.where(t, 1.0, e / (1 - e))
        total = weight.sum()
        gamma = np.where(t, gamma / np.sum(weight[t] * gamma[t]),
                         gamma / np.sum(weight[~t] * gamma[~t])) * total
        correction_all = np.where(t, gamma * residual, -gamma * residual)
        correction, spread = weighted_mean_and_se(correction_all, weight)
        return raw + correction, float(np.sqrt(raw_var + spread**2))

    def ate(self, target_population: str = "all") -> Any:
        """Doubly robust average effect ``E[f(T(1)) - f(T(0))]`` (``"all"``) or on the
        treated ``E[f(T(1)) - f(T(0)) | W = 1]`` (``"treated"``).

        ``"all"``: the weighted mean of grf's scores
        ``Gamma_i = tau_i + (psi_i - (W_i - e_i)^2 tau_i) / (e_i (1 - e_i))`` with out-of-bag
        ``tau_i``. ``"treated"``: the mean OOB ``tau`` of the treated rows plus a normalised
        inverse-propensity correction of the residuals ``psi_i / (W_i - e_i)`` (treated weight
        1, control weight ``e / (1 - e)``), as grf's ``average_treatment_effect``.

        With K > 1 treated levels, an array over the levels: level ``k``'s ``"all"`` score is
        ``tau_k(X_i)`` plus, on the rows of levels 0 and ``k``, that level's forest's
        correction divided by ``e_0(X_i) + e_k(X_i)`` (so that ``1 / e_k`` weights the rows of
        level ``k``: the AIPW score of grf's multi-arm forest); ``"treated"`` is the effect
        on the rows of level ``k``.

        Returns
        -------
        float, or ndarray of shape (K,)
        """
        return self._average(target_population)[0]

    def ate_std_error(self, target_population: str = "all") -> Any:
        """Standard error of :meth:`ate` (grf's): float, or ndarray of shape (K,)."""
        return self._average(target_population)[1]

    def ate_interval(self, alpha: float = 0.05, target_population: str = "all"
                     ) -> tuple[Any, Any]:
        """Normal ``1 - alpha`` interval of :meth:`ate`: floats, or ndarrays of shape (K,)."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
        center, se = self._average(target_population)
        half = norm.ppf(1 - alpha / 2) * se
        return center - half, center + half
