"""Causal survival forest (Cui, Kosorok, Sverdrup, Wager & Zhu 2023; grf's
``causal_survival_forest``) on the generalized random forest engine: the estimator.

Its concerns live beside it: the nuisances (propensity, event and censoring survival models)
in :mod:`._nuisances`, the scores in :mod:`._survival_scores`, the average effects (shared
with :class:`~survhte.forest.CausalForest`) in :mod:`._average`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._base import resolve_horizon
from .._nuisance import NUISANCE_CONSTRAINTS
from .._params import HasMethods, InstanceOf, Interval, Options
from .._validation import TARGETS, check_sample_weight, check_time, validate_fit_inputs
from ..survival import check_survival_model
from ._base import FOREST_CONSTRAINTS, warn_if_unsplit
from ._cate import CATEForest
from ._nuisances import (
    PROPENSITY_FORMS,
    check_overlap,
    fit_survival_nuisance,
    forest_propensities,
)
from ._regression import RegressionForest
from ._strategies import causal_survival_strategy
from ._survival import SurvivalForest
from ._survival_scores import (
    causal_survival_scores,
    outcome,
    score_grid,
    warn_censoring,
    warn_large_grid,
)


class CausalSurvivalForest(CATEForest):
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
    (overall, on the treated or on the controls) by grf's doubly robust scores.

    More than two treatment levels (codes 0..K, 0 the control; grf's forest takes two):
    level ``k``'s effect ``E[f(T(k)) - f(T(0)) | X = x]`` gets its own forest
    (``arm_forests_[k - 1]``), fitted as above on the rows of levels 0 and ``k`` with the
    propensity ``e_k(x) / (e_0(x) + e_k(x))`` from the propensities of all levels. Under
    unconfoundedness the effect at ``x`` is the same on those rows as on all, so each forest
    estimates ``tau_k(x)``; ``predict`` stacks them, (n, K). The average effects reweight each
    level's doubly robust corrections to all rows (:meth:`ate`).
    :class:`~survhte.forest.MultiArmCausalSurvivalForest` fits one forest for all levels
    instead, split on the K effects jointly.

    Average effects (:mod:`survhte.forest._average`, shared with
    :class:`~survhte.forest.CausalForest`): ``ate("all")`` is the weighted mean of grf's
    scores ``Gamma_i = tau_i + (psi_i - (W_i - e_i)^2 tau_i) / (e_i (1 - e_i))`` with
    out-of-bag ``tau_i``; ``"treated"`` (``"control"``) the mean out-of-bag ``tau`` of the
    treated (control) rows plus a normalised inverse-propensity correction of the residuals
    ``psi_i / (W_i - e_i)``, as grf's ``average_treatment_effect``. With K > 1 treated levels,
    level ``k``'s ``"all"`` score is ``tau_k(X_i)`` plus, on the rows of levels 0 and ``k``,
    that level's forest's correction divided by ``e_0(X_i) + e_k(X_i)`` (the AIPW score of
    grf's multi-arm forest); ``"treated"`` is the effect on the rows of level ``k``.

    Nuisances (all out of fold or out of bag), grf's defaults:

    - ``e(x)``: a regression forest of ``W`` (``max(50, n_estimators // 4)`` trees), OOB;
      with more levels, one per level indicator, normalised to sum 1;
    - ``S(t | x, w)`` and ``C(t | x, w)``: survival forests on ``(X, W)`` (Nelson-Aalen leaf
      curves, ``max(50, min(n_estimators // 4, 500))`` trees, ``min_node_size=15``), OOB on the
      training rows, evaluated at ``w = 1``, ``w = 0`` and the observed ``W_i``.

    Each may be replaced (grf #1410): ``propensity_model`` a known design or any classifier;
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
        (:func:`survhte._validation.default_horizon`). A horizon beyond any arm's last
        observed time is refused (that arm's curve is unknown there;
        :func:`survhte._base.resolve_horizon`).
    failure_times : None, int, "all" or array-like, default None
        Time grid of the nuisance curves (grf's ``failure.times``), also given to the default
        event and censoring survival forests, as grf does: observed times are rounded down to
        it. ``"all"``: every distinct observed time up to ``h`` (grf's default). An integer
        ``G``: the same when there are at most ``G`` such times, else ``G`` of them evenly
        spaced in rank (the first and last included; plus the first time after ``h``, so
        that no later event is rounded onto ``h``). Default (None): ``G = 2000``. Each row's
        out-of-bag curves read up to one value per grid time from each of its leaves, and
        the leaves of event-poor regions (where the log-rank rule cannot split) grow with
        ``n``, so with every distinct time the score step is superlinear in ``n``; the cap
        bounds each row's work by the number of nuisance trees times ``G``. Measured
        (``benchmarks/csf_grid.py``, the guide's "Large data" page): over 3 seeds on three
        stress designs of 5,000-20,000 rows (up to 12,377 distinct times), RMST and survival
        targets, the RMSE against the true CATE with ``G`` from 250 to 2,000 was within 1%
        of the all-times grid's.
    control : label, optional
        The reference level of ``w`` (becomes ``classes_[0]``); needed for string labels
        (see :func:`survhte._validation.check_treatment`).
    propensity_model : None, "constant", float, array-like or classifier, default None
        The propensity specification of :mod:`survhte._nuisance` (as every estimator's):
        ``None``: grf's out-of-bag regression forest of ``W`` (per level indicator for more
        levels); ``"constant"``: the arms' shares (a trial); a float: ``P(W = classes_[1])``
        of a binary trial; an array of shape (K + 1,): each level's probability; an array of
        shape (n,) (two levels: ``P(W = 1 | X_i)``) or (n, K + 1): known per-row
        probabilities (grf's ``W.hat``); a classifier with ``predict_proba``: cross-fitted
        over ``n_folds`` folds. ``fit`` warns, with the numbers, when a propensity is below
        0.05 or above 0.95 (poor overlap).
    event_model, censoring_model : None or survival model, default None
        ``None``: survival forests (OOB). Otherwise cross-fitted S-learners on ``(X, W)``.
    n_folds : int, default 5
        Cross-fitting folds of plug-in nuisance models (stratified by arm, and by event for
        the survival models; every stratum needs ``n_folds`` rows); 1 fits and evaluates them
        on all rows (no cross-fitting: for parametric nuisances and exact checks).
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
    alpha, imbalance_penalty, ci_group_size, n_jobs, device, split_search, n_bins, random_state
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


    _parameter_constraints: ClassVar[dict] = {
        **FOREST_CONSTRAINTS,
        "target": [Options(TARGETS)],
        "horizon": [None, Interval(float, 0, None, closed="neither")],
        "failure_times": [None, Options({"all"}), Interval(int, 2, None), "array-like",
                          InstanceOf((pd.Series, pd.Index))],
        "control": ["no_validation"],
        "propensity_model": PROPENSITY_FORMS,
        "event_model": [None, HasMethods(("fit", "predict_survival"))],
        "censoring_model": [None, HasMethods(("fit", "predict_survival"))],
        "n_folds": NUISANCE_CONSTRAINTS["n_folds"],
        "stabilize_splits": ["boolean"],
        "score_discretization": [Options({"grf", "aipcw"})],
    }

    def __init__(
        self,
        n_estimators: int = 2000,
        *,
        target: str = "rmst",
        horizon: float | None = None,
        failure_times: Any = None,
        control: Any = None,
        propensity_model: Any = None,
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
        self.target = target
        self.horizon = horizon
        self.failure_times = failure_times
        self.control = control
        self.propensity_model = propensity_model
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
            Treatment: codes 0..K (0 = control) or labels (``control=`` names the reference
            level). With K > 1 treated levels, level ``k``'s forest is fitted on the rows
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
        self._validate_params()
        X_array, names, time, event, codes, classes = validate_fit_inputs(
            X, y, w, control=self.control)
        for name in ("event_model", "censoring_model"):
            if getattr(self, name) is not None:
                check_survival_model(getattr(self, name), name)
        self._tree_params(X_array.shape[1])
        given_weight = check_sample_weight(sample_weight, X_array.shape[0])
        weight = np.ones(X_array.shape[0]) if given_weight is None else given_weight
        self._clear_fit()
        self._set_fit_attributes(X, names, classes)
        horizon = resolve_horizon(self.horizon, time, codes, classes)
        if classes.size > 2:
            seed_w, seed_folds, *level_seeds = self._seeds(classes.size + 1)
        else:
            seeds = self._seeds(5)
            seed_w, seed_folds = seeds[1], seeds[4]
        propensities = forest_propensities(
            self.propensity_model, X_array, codes, classes, weight, seed_w, seed_folds,
            self.n_folds, self._propensity_forest)
        check_overlap(propensities, codes, classes, "CausalSurvivalForest")
        if classes.size == 2:
            self._fit_binary(X_array, names, time, event, codes, classes, given_weight,
                             horizon, propensities[:, 1], seeds)
            return self

        def fit_level(forest: CausalSurvivalForest, rows: np.ndarray, level_codes: np.ndarray,
                      level_classes: np.ndarray, share: np.ndarray) -> None:
            forest.set_params(horizon=horizon)._fit_binary(
                X_array[rows], names, time[rows], event[rows], level_codes, level_classes,
                None if given_weight is None else given_weight[rows], horizon, share)

        self._fit_levels(X_array, names, codes, classes, weight, propensities, level_seeds,
                         fit_level)
        self.horizon_ = horizon
        return self

    def _fit_binary(self, X: np.ndarray, names: list[str], time: np.ndarray,
                    event: np.ndarray, codes: np.ndarray, classes: np.ndarray,
                    given_weight: np.ndarray | None, horizon: float, w_hat: np.ndarray,
                    seeds: list[int] | None = None) -> None:
        """``fit`` on validated data with two levels, at ``horizon``, with propensities
        ``w_hat`` (``P(W = 1 | X_i)``); ``seeds``: the five seeds of this fit (drawn if None:
        a level's forest of a multi-level fit)."""
        n, p = X.shape
        params = self._tree_params(p)
        weight = np.ones(n) if given_weight is None else given_weight
        self.classes_ = classes
        self.horizon_ = horizon
        self._codes = codes
        treated = codes.astype(np.float64)
        target, style = self.target, self.score_discretization

        # Outcome of interest and the data the survival nuisances see (grf's preprocessing).
        f_value, nuis_time, nuis_event = outcome(target, time, event, horizon)
        grid, forest_times = score_grid(self.failure_times, nuis_time, horizon)
        self.failure_times_ = grid
        warn_large_grid(n, grid)

        seed_forest, _, seed_s, seed_c, seed_folds = self._seeds(5) if seeds is None else seeds
        self.w_hat_ = w_hat
        w_centered = treated - w_hat

        # Nuisance survival models: the event model (its curves give E[f | x, w] in both arms
        # and S(t | x, W_i)) and the censoring model (C(t | x, W_i)).
        event_nuisance = fit_survival_nuisance(
            self.event_model, "event_model", X, treated, nuis_time, nuis_event, given_weight,
            self._survival_forest(seed_s, params.mtry, forest_times), seed_folds,
            self.n_folds, classes)
        self.event_model_ = event_nuisance.fitted
        if event_nuisance.fold_of is None:
            warn_if_unsplit(event_nuisance.fitted.forest_, float(np.mean(nuis_event)),
                            params.alpha, "CausalSurvivalForest's event survival forest")
        censoring_nuisance = None
        if not nuis_event.all():  # else no censoring (before the horizon): C = 1
            censoring_nuisance = fit_survival_nuisance(
                self.censoring_model, "censoring_model", X, treated, nuis_time, ~nuis_event,
                given_weight, self._survival_forest(seed_c, params.mtry, forest_times),
                seed_folds, self.n_folds, classes)

        y_hat, bracket, c_at_y = causal_survival_scores(
            X, treated, time, event, horizon, grid, f_value, w_hat, event_nuisance,
            censoring_nuisance, target, style, self.n_jobs)
        # The censoring forest is not kept: free it before the main forest grows (at n = 10^6
        # its 500 trees and leaf histograms are ~3.9 GB).
        del censoring_nuisance
        self.y_hat_ = y_hat
        self.censoring_at_y_ = c_at_y
        warn_censoring(c_at_y, target)
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
        known = event | (time >= horizon)
        rule, estimand = causal_survival_strategy(numerator, w_centered, known, weight,
                                                  stabilize_splits=self.stabilize_splits)
        self._grow(X, rule, estimand, seed_forest)
        warn_if_unsplit(self.forest_, float(np.mean(known)), params.alpha,
                        "CausalSurvivalForest")

    def _propensity_forest(self, seed: int) -> RegressionForest:
        """grf's default propensity forest (``max(50, n_estimators // 4)`` trees, OOB)."""
        return RegressionForest(
            n_estimators=max(50, self.n_estimators // 4),
            sample_fraction=self.sample_fraction, mtry=self.mtry, min_node_size=5,
            alpha=self.alpha, imbalance_penalty=self.imbalance_penalty,
            ci_group_size=1, n_jobs=self.n_jobs, device=self.device,
            split_search=self.split_search, n_bins=self.n_bins, random_state=seed,
        )

    def _survival_forest(self, seed: int, mtry: int, failure_times: Any) -> SurvivalForest:
        """grf's default event and censoring survival forest (unfitted) on the grid
        ``failure_times`` (:class:`~survhte.forest._survival_scores.ScoreGrid`'s
        ``forest_times``)."""
        return SurvivalForest(
            n_estimators=max(50, min(self.n_estimators // 4, 500)),
            sample_fraction=self.sample_fraction, mtry=mtry, min_node_size=15,
            failure_times=failure_times,  # as grf: times round down to the grid
            alpha=self.alpha, prediction_type="nelson-aalen", ci_group_size=1,
            n_jobs=self.n_jobs, device=self.device, random_state=seed,
        )

    # ------------------------------------------------------- scores for _average
    def _correction(self, tau: np.ndarray) -> np.ndarray:
        """The doubly robust correction ``psi_i(tau_i) / (e_i (1 - e_i))`` of a two-level fit
        (``psi_i(tau) = psi_numerator_i - psi_denominator_i tau``) at its rows' effects."""
        return self._psi(tau) / (self.w_hat_ * (1 - self.w_hat_))

    def _residual(self, tau: np.ndarray) -> np.ndarray:
        """Residual of the transformed outcome, ``psi_i(tau_i) / (W_i - e_i)``."""
        return self._psi(tau) / (self._treated - self.w_hat_)

    def _psi(self, tau: np.ndarray) -> np.ndarray:
        e = self.w_hat_
        if np.any((e <= 0) | (e >= 1)):
            raise ValueError(
                "w_hat_ has values at 0 or 1: overlap fails and the doubly robust average "
                "effect is undefined."
            )
        return self.psi_numerator_ - self.psi_denominator_ * tau

    @staticmethod
    def _treatment_columns(codes: np.ndarray) -> np.ndarray:
        """The treatment column(s) the survival nuisances were fitted with: ``W`` (0/1)."""
        return codes.astype(np.float64)

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
            Xw = np.column_stack([X, self._treatment_columns(codes)])
            models = self.event_model_ if isinstance(self.event_model_, list) else [
                self.event_model_]
            return np.mean([m.predict_survival(Xw, times) for m in models], axis=0)
        out = np.empty((X.shape[0], times.size))
        for code in np.unique(codes):
            mine = codes == code
            arm = arms[max(code, 1) - 1]
            out[mine] = arm.predict_survival(X[mine], arm.classes_[min(code, 1)], times)
        return out
