"""EnsembleCATE: cross-fitted stacking of CATE estimators on doubly robust scores, calibrated
toward the average effect."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import ndtri
from sklearn.base import clone
from sklearn.utils import check_random_state

from .._base import CATEEstimator, population_rows, resolve_horizon, subpopulation_scores
from .._nuisance import (
    MIN_ARM_EVENTS,
    N_JOBS_CONSTRAINT,
    NUISANCE_CONSTRAINTS,
    make_folds,
    map_folds,
    seeded_clone,
)
from .._params import InstanceOf, Interval, Options
from .._validation import TARGETS, validate_fit_inputs
from ..forest import CausalSurvivalForest
from ..imputed_learners import DRLearner, SLearner, XLearner
from ..inference import AIPCW
from ..survival import wald_interval
from ..survival_model_learners import SurvivalSLearner, SurvivalTLearner
from ._combine import CALIBRATION, COMBINE, Combination, combine_level, dr_losses

#: Trees of the default causal survival forest member (a quarter of the forest's own default:
#: it is fitted ``n_folds + 1`` times).
DEFAULT_FOREST_TREES = 500


def default_members() -> list[tuple[str, Any]]:
    """The default members, each with its own class's defaults (so that improvements to a
    learner's defaults reach the ensemble): a causal survival forest (500 trees), the imputed
    DR-, X- and S-learners and the survival-model S- and T-learners (with ``calibrate=False``:
    the ensemble calibrates the combination by its own held-out slope, and their calibration
    would cost two half-sample fits and a cross-fitted AIPCW per member and fold)."""
    return [
        ("causal_survival_forest", CausalSurvivalForest(n_estimators=DEFAULT_FOREST_TREES)),
        ("dr_learner", DRLearner()),
        ("x_learner", XLearner()),
        ("s_learner", SLearner()),
        ("survival_s_learner", SurvivalSLearner(calibrate=False)),
        ("survival_t_learner", SurvivalTLearner(calibrate=False)),
    ]


_FOLD_ERRORS = (ValueError, np.linalg.LinAlgError, ArithmeticError)


def _fold_fit(X: np.ndarray, time: np.ndarray, event: np.ndarray, codes: np.ndarray,
              n_levels: int, template: Any, train: np.ndarray, test: np.ndarray) -> Any:
    """A member fitted on fold ``train`` and its CATEs on ``test`` (a joblib task,
    :func:`survhte._nuisance.map_folds`); the error, returned, when the fit fails."""
    try:
        model = clone(template).fit(X[train], (time[train], event[train]), codes[train])
        return model, _predict_matrix(model, X[test], n_levels)
    except _FOLD_ERRORS as error:
        return error


def _full_fit(X: np.ndarray, time: np.ndarray, event: np.ndarray, codes: np.ndarray,
              template: Any) -> Any:
    """A member fitted on all rows (a joblib task)."""
    return clone(template).fit(X, (time, event), codes)


def _predict_matrix(model: Any, X: np.ndarray, n_levels: int) -> np.ndarray:
    """A member's CATE at ``X`` as (n, K)."""
    return np.asarray(model.predict(X), dtype=np.float64).reshape(X.shape[0], n_levels)


class EnsembleCATE(CATEEstimator):
    r"""Cross-fitted ensemble of CATE estimators, weighed by doubly robust loss and calibrated
    toward the average effect.

    Estimand: as every survhte CATE estimator, for each treated level ``k`` vs the control and
    ``f(T) = min(T, h)`` (``target="rmst"``) or ``1{T > h}`` (``target="survival"``),
    :math:`\tau_k(x) = E[f(T(k)) - f(T(0)) \mid X = x]`.

    Fit, for each treated level separately (levels are combined one column at a time):

    1. Doubly robust scores :math:`\Gamma_i` (cross-fitted AIPCW, :class:`survhte.inference.AIPCW`,
       the scores of :func:`survhte.doubly_robust_scores`), :math:`E[\Gamma \mid X] = \tau(X)`;
       the ATE is their mean, :math:`\hat\tau`, with its influence-function interval.
    2. Out-of-fold CATE :math:`\hat\tau_j^{(-v)}(X_i)` of each member ``j`` (``n_folds`` folds,
       stratified by arm and event; each arm's row of longest follow-up stays in every training
       fold so that each fold model sees follow-up to the horizon, and is left out of steps
       3-4).
    3. Weights: ``combine="stack"``: non-negative least squares of
       :math:`\Gamma - \hat\tau` on the centred out-of-fold predictions (stacked regression,
       Breiman 1996; the DR loss :math:`\sum_i (\Gamma_i - \hat\tau - \sum_j w_j c_{ji})^2`
       with :math:`w \ge 0`, the super learner of van der Laan et al. 2007 for the DR loss,
       Kennedy 2023); ``"convex"``: the same with weights summing to 1 (the super learner's
       simplex, van der Laan et al. 2007; the scale is left to step 4); ``"mean"``: the plain
       average of the members (no weights fitted to the noisy scores); ``"select"``: the single
       member of least DR loss (or none, when the constant ATE has less).
    4. Calibration: the weights are cross-fitted once more (each fold's stacked prediction
       :math:`s_i` from weights fitted on the other folds) and :math:`\Gamma` regressed on
       :math:`s`: the slope ``b`` is the best linear predictor's (Chernozhukov et al. 2018;
       grf's ``test_calibration`` differential term), with a one-sided HC1 test of ``b > 0``.
       ``calibration="test"``: :math:`b_+ = \mathrm{clip}(b, 0, 1)` when the test rejects at
       ``test_level``, otherwise 0 (heterogeneity not detected: the constant ATE is
       predicted); ``"shrink"``: :math:`\mathrm{clip}(b, 0, 1)\,(1 - 1/t^2)_+` with
       :math:`t = b / \mathrm{se}(b)` (positive-part James-Stein shrinkage of the slope);
       ``"slope"``: always :math:`\mathrm{clip}(b, 0, 1)`; ``"none"``: 1.
    5. Members refitted on all rows; the prediction is

       .. math:: \hat\tau(x) = \hat\tau + b_+ \sum_j w_j
                 \big(\hat\tau_j(x) - \overline{\hat\tau_j}\big),

       with :math:`\overline{\hat\tau_j}` the member's mean over the training rows (so the
       mean prediction over the training rows is the doubly robust ATE).

    Parameters
    ----------
    members : list of (str, estimator), default None
        Named survival CATE estimators (each with ``target`` and ``horizon`` parameters; they
        are cloned and given the ensemble's ``target``, horizon, and a seed when their
        ``random_state`` is None). ``None``: :func:`default_members` (causal survival forest
        with 500 trees, DR-, X-, S-learner, survival S- and T-learner).
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
        ``None``: the smallest arm's last observed time.
    combine : {"mean", "convex", "stack", "select"}, default "mean"
        Step 3. The default was measured (``benchmarks/ensemble_survhte_bench.py``, 26
        designs): the DR scores of censored outcomes are so noisy (on SurvHTE-Bench their
        variance is 100-300 times that of the true CATE) that weights fitted to them add more
        error than they remove: the plain average, scaled by the held-out slope, had the lowest
        median MSE ratio to the best member in hindsight on the identified SurvHTE designs
        (1.28 vs convex 1.52, NNLS stacking 1.59) and on the stress designs (1.08 vs 1.21,
        1.24), and never exceeded the constant DR-ATE predictor's MSE (at most 1.003x);
        NNLS stacking reached 4.3x on RCT-50 D, where it gave a member with little spread a
        weight of 20 or more. The DR-loss weights remain available (``"convex"``, ``"stack"``,
        ``"select"``), and ``cv_loss_`` reports each member's DR loss whatever the rule.
    calibration : {"slope", "test", "shrink", "none"}, default "slope"
        Step 4. ``"test"`` protects null designs exactly but falls back to the constant on
        many designs whose heterogeneity a 5% test at n = 1,500-2,000 misses (detected in 1 of
        3 fits on most identified SurvHTE designs): median ratio to the best member 1.45
        (identified) and 1.50 (stress) with the average; the clipped slope alone already
        shrinks toward the ATE (the null stress design: exactly the constant in 2 of 2 fits).
    test_level : float, default 0.05
        Level of the one-sided test of heterogeneity (``calibration="test"``).
    n_folds : int, default 5
        Cross-fitting folds (at least 2) of the members and of the doubly robust scores.
    propensity_model : classifier, "constant", float, array or None, default None
        Propensity model of the doubly robust scores (as :class:`~survhte.inference.AIPCW`;
        ``"constant"`` for a randomised trial). The members keep their own.
    n_bootstrap : int, default 200
        Bootstrap draws of the combination step (weights, slope, ATE) for
        :meth:`predict_interval`; 0 leaves it out.
    n_jobs : int, optional
        Jobs of the members' fits on the cross-fitting folds and on all rows
        (:class:`joblib.Parallel`, as scikit-learn's ``n_jobs``): ``None`` fits them one after
        another, unless a joblib backend is active: within ``joblib.parallel_backend("dask")``
        they go to the Dask workers; ``-1``: all local cores. The fit does not depend on it.
    random_state : int, RandomState or None, default None
    control : label, optional
        The reference treatment level; becomes ``classes_[0]``.

    Attributes
    ----------
    members_ : dict of str -> fitted estimator
        The members refitted on all rows (members that failed on a fold are left out, with a
        warning).
    weights_ : DataFrame (members x treated levels)
        Member weights ``w_j`` before the calibration factor.
    calibration_slope_ : float or ndarray of shape (K,)
        The held-out BLP slope ``b`` (unclipped).
    calibration_factor_ : float or ndarray of shape (K,)
        The factor :math:`b_+` applied to the stacked deviation.
    heterogeneity_pvalue_ : float or ndarray of shape (K,)
        One-sided p-value of ``b > 0``: below ``test_level``, heterogeneity is detected.
    cv_loss_ : DataFrame ((members, "constant", "ensemble") x treated levels)
        Cross-fitted DR loss :math:`\frac1n\sum_i (\Gamma_i - t_i)^2` of each member's
        out-of-fold prediction, of the constant ATE and of the ensemble's held-out prediction
        (its slope fitted on the same rows). Differences between rows estimate differences of
        CATE MSE; the level includes the scores' noise.
    ate_ : float or ndarray of shape (K,)
        Doubly robust (AIPCW) ATE.
    scores_ : ndarray of shape (n,) or (n, K)
        The cross-fitted doubly robust scores :math:`\Gamma_i` of the training rows.
    horizon_ : float
    classes_ : ndarray
        Treatment labels, the control first.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    :meth:`predict_interval` is a Wald interval with two variance parts: a bootstrap over rows
    of steps 1 and 3-4 (ATE, weights, slope and test) with the members' predictions held fixed,
    and a grouped jackknife over the ``n_folds`` fold models of the members (each fitted without
    one fold), :math:`\frac{V-1}{V}\sum_v (\hat\tau^{(-v)}(x) - \bar\tau(x))^2`, for the members'
    own estimation error. It covers the sampling error of the ensemble's estimate, not its bias:
    when the members are biased, or when the constant ATE is predicted because heterogeneity
    was not detected, it covers the projection the ensemble estimates (for the constant: the
    ATE), not :math:`\tau(x)`; the slope's clip at 1 also biases toward the ATE when the
    members' average under-disperses (a test design with slope 1.33: 53-58% of the true CATE
    covered at 95%). The jackknife over 5 groups is itself noisy (about 4 degrees of freedom).
    Measured coverage of the true CATE at 95% (``benchmarks/ensemble_survhte_bench.py``, the
    defaults, identified SurvHTE designs, n = 1,500): 53-90% by design (mean width 1.4-2.6
    sd of the true CATE). Treat it as a lower bound on the uncertainty.

    :meth:`ate_interval`: the influence-function (Wald) interval of the AIPCW estimate;
    ``target_population="treated"``/``"control"`` are the doubly robust ATT/ATC (Moodie et al.
    2018's odds-weighted residuals on the AIPCW transformed outcome). The scores are those of
    :func:`survhte.doubly_robust_scores` (the same AIPCW); the ensemble fits the AIPCW itself
    because the ATT/ATC need its outcome means, propensities and transformed outcome.

    References
    ----------
    Breiman, L. (1996). Stacked regressions. *Machine Learning*, 24(1), 49-64.
    van der Laan, M. J., Polley, E. C. & Hubbard, A. E. (2007). Super learner. *Statistical
    Applications in Genetics and Molecular Biology*, 6(1).
    Kennedy, E. H. (2023). Towards optimal doubly robust estimation of heterogeneous causal
    effects. *Electronic Journal of Statistics*, 17(2), 3008-3049.
    Chernozhukov, V., Demirer, M., Duflo, E. & Fernandez-Val, I. (2018). Generic machine learning
    inference on heterogeneous treatment effects in randomized experiments. NBER w24678.
    Cui, Y., Kosorok, M. R., Sverdrup, E., Wager, S. & Zhu, R. (2023). Estimating heterogeneous
    treatment effects with right-censored data via causal survival forests. *JRSS-B*, 85(2).

    Examples
    --------
    >>> from survhte import EnsembleCATE, SurvivalTLearner, XLearner
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "C", n=800, random_state=0)
    >>> est = EnsembleCATE(members=[("survival_t", SurvivalTLearner()), ("x", XLearner())],
    ...                    horizon=8.0, n_folds=3, random_state=0).fit(d.X, d.y, d.w)
    >>> est.predict(d.X[:3]).shape
    (3,)
    >>> sorted(est.cv_loss_.index)
    ['constant', 'ensemble', 'survival_t', 'x']
    """

    _parameter_constraints: ClassVar[dict] = {
        "members": [None, InstanceOf((list, tuple))],
        "target": [Options(TARGETS)],
        "horizon": [None, Interval(float, 0, None, closed="neither")],
        "combine": [Options(COMBINE)],
        "calibration": [Options(CALIBRATION)],
        "test_level": [Interval(float, 0, 1, closed="neither")],
        "n_folds": [Interval(int, 2, None)],
        "propensity_model": NUISANCE_CONSTRAINTS["propensity_model"],
        "n_bootstrap": [Interval(int, 0, None)],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
        "control": ["no_validation"],
    }

    def __init__(
        self,
        members: list[tuple[str, Any]] | None = None,
        *,
        target: str = "rmst",
        horizon: float | None = None,
        combine: str = "mean",
        calibration: str = "slope",
        test_level: float = 0.05,
        n_folds: int = 5,
        propensity_model: Any = None,
        n_bootstrap: int = 200,
        n_jobs: int | None = None,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
    ) -> None:
        self.members = members
        self.target = target
        self.horizon = horizon
        self.combine = combine
        self.calibration = calibration
        self.test_level = test_level
        self.n_folds = n_folds
        self.propensity_model = propensity_model
        self.n_bootstrap = n_bootstrap
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.control = control

    # ------------------------------------------------------------------ members

    def _member_templates(self, rng: np.random.RandomState) -> list[tuple[str, Any]]:
        """Unfitted clones of the members with the ensemble's estimand and a seed."""
        members = default_members() if self.members is None else self.members
        if not isinstance(members, (list, tuple)) or not members:
            raise ValueError(f"members must be a non-empty list of (name, estimator) pairs; "
                             f"got {members!r}.")
        templates, names = [], set()
        for item in members:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
                raise ValueError(f"members must be a list of (name, estimator) pairs with "
                                 f"string names; got the item {item!r}.")
            name, estimator = item
            if name in names or name in ("constant", "ensemble"):
                raise ValueError(f"members: the name {name!r} is used twice or reserved "
                                 "('constant' and 'ensemble' name rows of cv_loss_).")
            names.add(name)
            if not all(callable(getattr(estimator, m, None)) for m in ("fit", "predict",
                                                                         "get_params")):
                raise TypeError(f"members: {name!r} must be a CATE estimator with fit and "
                                f"predict; got {type(estimator).__name__}.")
            params = estimator.get_params(deep=False)
            missing = [p for p in ("target", "horizon") if p not in params]
            if missing:
                raise ValueError(
                    f"members: {name!r} ({type(estimator).__name__}) has no "
                    f"{' or '.join(missing)} parameter; the ensemble combines estimators of a "
                    "censored outcome's RMST or survival effect.")
            seed = int(rng.randint(np.iinfo(np.int32).max))
            template = seeded_clone(estimator, seed).set_params(
                target=self.target, horizon=self.horizon_)
            if "control" in params:
                template.set_params(control=None)  # members see the codes 0..K
            templates.append((name, template))
        return templates

    # ------------------------------------------------------------------ fit

    def fit(self, X: Any, y: Any, w: Any) -> EnsembleCATE:
        """Fit the members by cross-fitting, combine and calibrate them, and refit them.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        y : structured array (event, time), tuple (time, event), (n, 2) array or DataFrame
        w : array-like of shape (n,)
            Treatment labels (``control=`` names the reference level).

        Returns
        -------
        self
        """
        self._validate_params()
        X_array, names, time, event, codes, classes = validate_fit_inputs(
            X, y, w, control=self.control)
        self._set_fit_attributes(X, names, classes)
        self.horizon_ = resolve_horizon(self.horizon, time, codes, classes)
        n, n_levels = codes.size, len(classes) - 1
        rng = check_random_state(self.random_state)

        for code, label in enumerate(classes.tolist()):  # AIPCW's rule, named by label
            rows = codes == code
            events = int(np.sum(event[rows] & (time[rows] <= self.horizon_)))
            if events < MIN_ARM_EVENTS:
                raise ValueError(
                    f"treatment arm {label!r} has {events} event(s) up to horizon="
                    f"{self.horizon_:g} among {int(rows.sum())} rows; the ensemble's doubly "
                    f"robust scores need at least {MIN_ARM_EVENTS}. Choose a later horizon or "
                    "pool arms.")

        # 1. Doubly robust scores (and the pieces of the ATT/ATC).
        scores_model = AIPCW(self.target, self.horizon_, propensity_model=self.propensity_model,
                             n_folds=self.n_folds, random_state=_seed(rng))
        scores_model.fit(X_array, (time, event), codes)
        psi = np.asarray(scores_model.scores_, dtype=np.float64).reshape(n, n_levels)
        self.scores_ = psi[:, 0] if n_levels == 1 else psi
        self._aipcw = scores_model

        # 2. Out-of-fold predictions of each member.
        templates = self._member_templates(rng)
        folds, fold_of = self._folds(time, event, codes, _seed(rng))
        with warnings.catch_warnings():  # every (member, fold) fit: one joblib task
            warnings.simplefilter("ignore")
            fits = map_folds(_fold_fit, [(template, train, test) for _, template in templates
                                         for train, test in folds],
                             X_array, time, event, codes, n_levels, n_jobs=self.n_jobs)
        oof, fold_models, kept = [], [], []
        for j, (name, template) in enumerate(templates):
            predictions = np.full((n, n_levels), np.nan)
            mine = fits[j * len(folds):(j + 1) * len(folds)]
            error = next((fit for fit in mine if isinstance(fit, Exception)), None)
            if error is not None:
                warnings.warn(f"ensemble member {name!r} failed on a cross-fitting fold and is "
                              f"left out: {type(error).__name__}: {error}", UserWarning,
                              stacklevel=2)
                continue
            models = [model for model, _ in mine]
            for (_, test), (_, predicted) in zip(folds, mine, strict=True):
                predictions[test] = predicted
            held = predictions[fold_of >= 0]
            if not np.all(np.isfinite(held)):
                bad = int(np.sum(~np.isfinite(held)))
                warnings.warn(f"ensemble member {name!r} predicted {bad} non-finite CATE "
                              "value(s) on held-out rows and is left out.",
                              UserWarning, stacklevel=2)
                continue
            kept.append((name, template))
            oof.append(predictions)
            fold_models.append(models)
        if not kept:
            raise ValueError("every ensemble member failed on the cross-fitting folds (see the "
                             "warnings); check the data or pass other members.")
        oof = np.stack(oof)  # (J, n, K)

        # 3-4. Weights and calibration per level, on the rows that have a fold.
        rows = fold_of >= 0
        combos = [self._combine(oof[:, rows, k].T, psi[rows, k], fold_of[rows])
                  for k in range(n_levels)]
        member_names = [name for name, _ in kept]
        level_labels = list(classes[1:])
        self.weights_ = pd.DataFrame(np.column_stack([c.weights for c in combos]),
                                     index=member_names, columns=level_labels)
        self.calibration_slope_ = _level_values([c.slope for c in combos])
        self.calibration_factor_ = _level_values([c.factor for c in combos])
        self.heterogeneity_pvalue_ = _level_values([c.p_value for c in combos])
        self.cv_loss_ = self._cv_losses(oof[:, rows], psi[rows], combos, member_names,
                                        level_labels)
        self.ate_ = _level_values(psi.mean(axis=0))

        # 5. Members refitted on all rows; their training means centre the predictions.
        self.members_ = dict(zip(member_names, map_folds(
            _full_fit, [(template,) for _, template in kept], X_array, time, event, codes,
            n_jobs=self.n_jobs), strict=True))
        full = np.stack([_predict_matrix(m, X_array, n_levels) for m in self.members_.values()])
        self._centres = full.mean(axis=1)  # (J, K)
        self._fold_models = fold_models
        self._fold_centres = np.stack([
            np.stack([_predict_matrix(model, X_array, n_levels).mean(axis=0) for model in models])
            for models in fold_models])  # (J, V, K)
        self._combos = combos
        self._oof = oof
        self._fold_of = fold_of
        self._train_codes = codes
        self._bootstrap_seed = _seed(rng)
        self._bootstrap = None
        return self

    def _folds(self, time: np.ndarray, event: np.ndarray, codes: np.ndarray, seed: int
               ) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
        """Folds stratified by arm and event; each arm's row of longest follow-up is in every
        training fold and in no held-out fold (``fold_of`` -1)."""
        anchors = np.array([np.flatnonzero(codes == c)[np.argmax(time[codes == c])]
                            for c in range(int(codes.max()) + 1)])
        rest = np.setdiff1d(np.arange(codes.size), anchors)
        parts = make_folds(codes[rest], self.n_folds, seed, self.classes_,
                           strata=2 * codes[rest] + event[rest])
        fold_of = np.full(codes.size, -1)
        folds = []
        for v, (train, test) in enumerate(parts):
            folds.append((np.sort(np.concatenate([rest[train], anchors])), rest[test]))
            fold_of[rest[test]] = v
        return folds, fold_of

    def _combine(self, P: np.ndarray, g: np.ndarray, fold: np.ndarray) -> Combination:
        return combine_level(P, g, fold, combine=self.combine, calibration=self.calibration,
                             test_level=self.test_level)

    @staticmethod
    def _cv_losses(oof: np.ndarray, psi: np.ndarray, combos: list[Combination],
                   names: list[str], labels: list[Any]) -> pd.DataFrame:
        columns = []
        for k, combo in enumerate(combos):
            g = psi[:, k]
            ensemble = g.mean() + combo.factor * combo.held_out
            columns.append(np.concatenate([
                dr_losses(oof[:, :, k].T, g), [np.mean((g - g.mean()) ** 2)],
                [np.mean((g - ensemble) ** 2)]]))
        return pd.DataFrame(np.column_stack(columns), index=[*names, "constant", "ensemble"],
                            columns=labels)

    # ------------------------------------------------------------------ predict

    def _member_predictions(self, X: np.ndarray) -> np.ndarray:
        """Full-data members' CATE at ``X``, (J, n, K)."""
        K = len(self.classes_) - 1
        return np.stack([_predict_matrix(m, X, K) for m in self.members_.values()])

    def _weighted(self, taus: np.ndarray, centres: np.ndarray, ate: np.ndarray,
                  weights: np.ndarray, factor: np.ndarray) -> np.ndarray:
        """``ate + factor * sum_j w_j (tau_j - centre_j)``, (n, K), from taus (J, n, K),
        centres (J, K), weights (J, K)."""
        deviation = np.einsum("jk,jnk->nk", weights, taus - centres[:, None, :])
        return ate[None, :] + factor[None, :] * deviation

    def _fitted_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (np.atleast_1d(self.ate_).astype(float),
                self.weights_.to_numpy(dtype=float),
                np.atleast_1d(self.calibration_factor_).astype(float))

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        ate, weights, factor = self._fitted_arrays()
        return self._weighted(self._member_predictions(X), self._centres, ate, weights, factor)

    def _bootstrap_draws(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``n_bootstrap`` redraws of (ATE (K,), weights (J, K), factor (K,)) over the rows
        with a fold, the members' out-of-fold predictions held fixed (drawn on first use)."""
        if self.n_bootstrap < 1:
            raise ValueError(f"EnsembleCATE has n_bootstrap={self.n_bootstrap}; "
                             "predict_interval needs n_bootstrap >= 1 (e.g. 200): set it and "
                             "refit.")
        if self._bootstrap is not None:
            return self._bootstrap
        rng = np.random.RandomState(self._bootstrap_seed)
        psi = np.asarray(self.scores_, dtype=float).reshape(self._oof.shape[1], -1)
        rows = np.flatnonzero(self._fold_of >= 0)
        draws = []
        for _ in range(self.n_bootstrap):
            pick = rows[rng.randint(rows.size, size=rows.size)]
            ates, weights, factors = [], [], []
            for k in range(psi.shape[1]):
                combo = self._combine(self._oof[:, pick, k].T, psi[pick, k],
                                      self._fold_of[pick])
                ates.append(psi[pick, k].mean())
                weights.append(combo.weights)
                factors.append(combo.factor)
            draws.append((np.array(ates), np.column_stack(weights), np.array(factors)))
        self._bootstrap = draws
        return draws

    def _interval_core(self, X: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        """Wald interval: bootstrap variance of the combination step plus the grouped
        jackknife variance of the members' fits (see Notes)."""
        taus = self._member_predictions(X)
        draws = np.stack([self._weighted(taus, self._centres, *draw)
                          for draw in self._bootstrap_draws()])
        variance = draws.var(axis=0, ddof=1)
        ate, weights, factor = self._fitted_arrays()
        n_folds = len(self._fold_models[0])
        K = len(self.classes_) - 1
        fold_predictions = np.stack([
            self._weighted(np.stack([_predict_matrix(models[v], X, K)
                                     for models in self._fold_models]),
                           self._fold_centres[:, v], ate, weights, factor)
            for v in range(n_folds)])  # (V, n, K)
        variance = variance + (n_folds - 1) / n_folds * np.sum(
            (fold_predictions - fold_predictions.mean(axis=0)) ** 2, axis=0)
        estimate = self._predict_core(X)
        half = float(ndtri(1 - alpha / 2)) * np.sqrt(variance)
        return estimate - half, estimate + half

    # ------------------------------------------------------------------ ATE

    def _population_scores(self, population: str) -> np.ndarray:
        """Per-row scores (n, K) whose mean is each level's doubly robust average effect over
        ``population``: the AIPCW scores, or the ATT / ATC terms on the AIPCW transformed
        outcome (odds-weighted residuals, as :class:`~survhte.DRLearner`), scaled by
        ``n / n_k``."""
        codes = self._train_codes
        psi = np.asarray(self.scores_, dtype=float).reshape(codes.size, -1)
        if population == "all":
            return psi
        r = np.asarray(self._aipcw.propensity_, dtype=float)
        if r.ndim == 1:
            r = np.column_stack([1 - r, r])
        return subpopulation_scores(self._aipcw.transformed_outcome_,
                                    self._aipcw.arm_outcome_means_, r, codes, population)

    def _ate_core(self, population: str, alpha: float | None = None
                  ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """Doubly robust average effect over ``population``; Wald interval with the
        influence-function standard error."""
        scores = self._population_scores(population)
        estimate = scores.mean(axis=0)
        if alpha is None:
            return estimate, None
        if population == "all":
            centred = scores
        else:
            members = population_rows(self._train_codes, population)
            centred = scores - members / members.mean(axis=0) * estimate
        std_error = centred.std(axis=0, ddof=1) / np.sqrt(scores.shape[0])
        return estimate, wald_interval(estimate, std_error, alpha)


def _seed(rng: np.random.RandomState) -> int:
    return int(rng.randint(np.iinfo(np.int32).max))


def _level_values(values: Any) -> float | np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return float(values[0]) if values.size == 1 else values


__all__ = ["EnsembleCATE", "default_members"]
