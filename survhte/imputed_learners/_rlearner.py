"""R-learner on IPCW-weighted complete cases (Nie & Wager 2021); for K arms the joint R-loss of
Acharki et al. (2023) (one stacked least-squares solve for a linear basis, backfitting for any
other regressor) or K pairwise binary fits."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from array_api_compat import array_namespace

from .._nuisance import NUISANCE_CONSTRAINTS, PROPENSITY_CLIP
from .._params import Options
from .._rloss import backfit, fit_stacked, linear_parts
from .._validation import foreign_namespace, take_rows, to_namespace, to_numpy
from ._base import REGRESSOR, ImputedMetaLearner, one_hot, predict_columns
from ._defaults import default_effect_regressor, default_weighted_regressor


class RLearner(ImputedMetaLearner):
    r"""R-learner: minimise the weighted Robinson loss of the residualised outcome.

    With the target-scale outcome :math:`\tilde Y`, row weights :math:`\omega` (by default
    IPCW complete cases: :math:`\omega = 1\{f(T)\text{ observed}\} / G(\min(Y, h)- \mid W)`),
    cross-fitted :math:`\hat m(x) = E[\tilde Y \mid x]` and :math:`\hat r_k(x)`,
    :math:`\hat\tau_1, \dots, \hat\tau_K` minimise

    .. math::

        \sum_i \omega_i \Big(\tilde Y_i - \hat m(X_i)
            - \sum_{k \ge 1} \big(1\{W_i = k\} - \hat r_k(X_i)\big)\,\tau_k(X_i)\Big)^2 .

    Binary treatment: the regression of :math:`(\tilde Y - \hat m)/(W - \hat e)` on ``X`` with
    ``sample_weight`` :math:`\omega (W - \hat e)^2` minimises it exactly. ``K > 1``
    (``multi_arm="joint"``, Acharki et al. 2023: all :math:`\tau_k` at once, every row in
    every effect):

    - ``effect_learner`` linear in a fixed basis (a regressor of ``sklearn.linear_model``,
      alone or last in a ``Pipeline`` of unsupervised transformers, e.g.
      ``make_pipeline(SplineTransformer(), RidgeCV())``): with
      :math:`\tau_k(x) = \phi(x)^\top\beta_k`, :math:`\phi = [1, \text{basis}(x)]`, the
      loss is one weighted least-squares problem in the stacked coefficients on the design
      :math:`[A_1\phi, \dots, A_K\phi]`, :math:`A_k = 1\{W = k\} - \hat r_k`
      (the stacked-design trick): the linear model is fitted once on it, its own intercept
      turned off (each block carries its constant column; a penalty, if any, applies to every
      block alike). Exact: the block least-squares solution.
    - any other regressor: block coordinate descent (backfitting, 3 sweeps over the levels,
      ``survhte._rloss.BACKFIT_SWEEPS``), each step the weighted ratio regression above for
      one level with the other levels' current fits moved to the outcome side, started from
      the joint least-squares solve on ``[1, X]`` (measured in :mod:`survhte._rloss`: from
      zero effects, 3 sweeps left the average effects biased). For a least-squares
      regressor each step minimises the loss in that block, so the loss never increases and
      the sweeps converge to the joint minimiser (Gauss-Seidel); with a regularised or
      cross-validated regressor (the default) it is the usual backfitting approximation.

    ``multi_arm="pairwise"``: ``K`` separate binary R-learners, level ``k``'s on the rows of
    levels 0 and ``k`` with the pair propensity :math:`\hat r_k / (\hat r_0 + \hat r_k)`
    and its own cross-fitted :math:`\hat m_k(x) = E[\tilde Y \mid x, W \in \{0, k\}]`
    (the comparison the joint loss is meant to beat). With one treated level both are the
    binary R-learner, bit for bit.

    The loss is Neyman-orthogonal in :math:`m` and :math:`e`, so first-stage errors enter only
    at second order (quasi-oracle rates; Nie & Wager 2021). Estimand
    :math:`\tau_k(x) = E[f(T(k)) - f(T(0)) \mid X = x]`, ``f`` as in :class:`TLearner`.

    Parameters
    ----------
    base_learner : regressor, default None
        Regressor of :math:`m(x)` (cloned per fold). ``None``:
        :func:`~survhte.imputed_learners.default_weighted_regressor` (the boosting of
        :func:`~survhte.imputed_learners.default_regressor` on pre-binned covariates: fast with
        weights).
    effect_learner : regressor, default None
        Final weighted regressor (must accept ``sample_weight``; cloned). ``None``:
        :func:`~survhte.imputed_learners.default_effect_regressor`: chosen by weighted 5-fold
        CV and shrunk toward the weighted mean by the held-out weighted slope (the R-loss
        calibration; ``effect_models_[k].slope_``): the ratio
        :math:`(\tilde Y - \hat m)/(W - \hat e)` is very noisy where the weight is small.
    propensity_model : classifier, "constant", float, array or None, default None
        ``None``: cubic B-splines + ridge logistic regression; ``"constant"``: the arms'
        shares (an RCT); a float or array: known probabilities.
    propensity_clip : float, default 0.01
        Estimated :math:`\hat r_k` are clipped to ``[clip, 1 - clip]`` and renormalised; a
        warning reports the share of rows clipped.
    n_folds : int, default 5
        Cross-fitting folds of :math:`\hat m` and :math:`\hat r`, stratified by level.
    multi_arm : {"joint", "pairwise"}, default "joint"
        The ``K > 1`` form (above); ignored for a binary treatment. Measured
        (``benchmarks/multi_arm_learners.py``: 5 designs with 3 or 5 treated levels x 3
        seeds, n = 3000), with the default regressors pairwise had the lower mPEHE in 9 of 15
        draws: 32-33% lower on a 4-arm exponential design (0.108 vs 0.160), about even on its
        6-arm version (0.114 vs 0.122) and on SurvHTE-Bench K-arm RCT-50 A, but 3-8% higher on
        every ``trial_4arm`` draw (1.131 vs 1.080); with a ridge on splines (joint: the exact
        stacked solve) 7 of 15. Neither dominates: the default is unchanged.
    imputation : {"ipcw", "pseudo", "pseudo-cox", "margin", "ipcwt"} or imputer, default "ipcw"
        ``"ipcw"``: the rows whose truncated outcome is observed, weighted by the inverse
        Kaplan-Meier censoring survival of their arm (no covariate-free guess enters the
        residuals; as survlearners' R-learner). Pass ``IPCWeights(censoring="cox")`` for
        censoring that depends on ``X``, or an imputation (all rows, weight 1), see
        :class:`TLearner`.
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
    n_bootstrap : int, default 200
    random_state : int, RandomState or None, default None
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    outcome_models_ : list of fitted regressors of :math:`m`, one per fold
        (``multi_arm="pairwise"`` with ``K > 1``: one such list per treated level, of
        :math:`m_k`)
    effect_models_ : list of fitted regressors, one per treated level
        (the joint linear solve: ``LevelEffect`` objects, ``[1, basis(x)] @ coef``)
    joint_model_ : fitted linear model of the stacked design, or None
        Set by the joint linear solve (``K > 1``, linear ``effect_learner``).
    classes_, horizon_, n_features_in_, feature_names_in_

    Notes
    -----
    Array-API inputs keep their namespace (as scikit-learn's Array API support does): with
    ``X``, ``y``'s arrays and ``w`` of a non-NumPy array-API library (CuPy on a GPU,
    ``array_api_strict``, ...), regressors that support scikit-learn's array API dispatch (e.g.
    ``Ridge(solver="svd")`` for ``base_learner`` and ``effect_learner``) and
    ``imputation="pseudo"`` or ``"ipcw"``, the fit (validation, imputation, regressions, the
    residuals and the weighted effect regression) and :meth:`predict` / :meth:`effect` /
    :meth:`ate` run in that namespace, on that device, and return arrays of it. Call them inside
    ``sklearn.config_context(array_api_dispatch=True)``, with the environment variable
    ``SCIPY_ARRAY_API=1`` set before SciPy is imported (scikit-learn's requirement). The
    propensity model is fitted and evaluated on host NumPy copies (the package's default is a
    spline basis, which has no array API support) and its probabilities are moved to the input's
    device; treatment labels are encoded on the host. The default regressors (splines and
    gradient boosting) have no array API support.

    The joint multi-arm R-loss (``multi_arm="joint"`` with more than two levels) is solved with
    NumPy only and refuses other arrays with a ``TypeError``; ``multi_arm="pairwise"`` keeps
    them.

    References
    ----------
    Nie, X. & Wager, S. (2021). Quasi-oracle estimation of heterogeneous treatment effects.
    *Biometrika*, 108(2), 299-319.
    Robinson, P. M. (1988). Root-N-consistent semiparametric regression. *Econometrica*, 56(4).
    Xu, Y., Ignatiadis, N., Sverdrup, E., Fleming, S., Wager, S. & Shah, N. (2023). Treatment
    heterogeneity with survival outcomes. In *Handbook of Matching and Weighting Adjustments for
    Causal Inference*. Chapman & Hall.
    Acharki, N. et al. (2023). Comparison of meta-learners for estimating multi-valued treatment
    heterogeneous effects. *ICML*.

    Examples
    --------
    >>> from survhte.simulate import survhte_bench
    >>> from survhte.imputed_learners import RLearner
    >>> d = survhte_bench("OBS-CPS", "A", n=1000, random_state=0)
    >>> est = RLearner(horizon=1.0, n_folds=3, n_bootstrap=0, random_state=0)
    >>> est.fit(d.X, d.y, d.w).predict(d.X[:3]).shape
    (3,)
    """

    _parameter_constraints: ClassVar[dict] = {
        **ImputedMetaLearner._parameter_constraints,
        "effect_learner": REGRESSOR,
        **NUISANCE_CONSTRAINTS,
        "multi_arm": [Options({"joint", "pairwise"})],
    }

    _default_regressors: ClassVar[dict] = {"base_learner": default_weighted_regressor,
                                           "effect_learner": default_effect_regressor}

    def __init__(
        self,
        base_learner: Any = None,
        *,
        effect_learner: Any = None,
        propensity_model: Any = None,
        propensity_clip: float = PROPENSITY_CLIP,
        n_folds: int = 5,
        multi_arm: str = "joint",
        imputation: Any = "ipcw",
        target: str = "rmst",
        horizon: float | None = None,
        n_bootstrap: int = 200,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
    ) -> None:
        self.base_learner = base_learner
        self.effect_learner = effect_learner
        self.propensity_model = propensity_model
        self.propensity_clip = propensity_clip
        self.n_folds = n_folds
        self.multi_arm = multi_arm
        self.imputation = imputation
        self.target = target
        self.horizon = horizon
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.control = control

    _keeps_namespace: ClassVar[bool] = True

    def _fit_learner(self, X: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                     codes: np.ndarray) -> None:
        xp = array_namespace(X)
        n_levels = len(self.classes_)
        host_codes = to_numpy(codes, "w")
        folds = self._folds(host_codes)
        # The propensity model runs on the host (the documented boundary).
        r = to_namespace(self._propensity(to_numpy(X, "X"), host_codes, folds), X)
        self.joint_model_ = None
        if n_levels > 2 and self.multi_arm == "pairwise":
            self._fit_pairwise(X, outcome, weight, codes, folds, r)
            return
        if n_levels > 2 and foreign_namespace(X) is not None:
            raise TypeError(
                f"RLearner(multi_arm='joint') with {n_levels} treatment levels solves the joint "
                "R-loss (survhte._rloss) with NumPy only; pass NumPy arrays, or "
                "multi_arm='pairwise' to keep the arrays of "
                f"{xp.__name__} (one binary R-learner per level, in that namespace)."
            )
        predictions = []
        self.outcome_models_ = []
        for train, test in folds:
            model = self._fit_weighted(self.base_learner, "base_learner", take_rows(X, train),
                                       take_rows(outcome, train), take_rows(weight, train))
            predictions.append(model.predict(take_rows(X, test)))
            self.outcome_models_.append(model)
        # Back to row order: every row is in one test fold.
        order = np.argsort(np.concatenate([test for _, test in folds]))
        m = take_rows(xp.concat(predictions), order)
        residual = outcome - m
        exposure = (one_hot(codes, n_levels) - r)[:, 1:]
        parts = None if self.effect_learner is None else linear_parts(self.effect_learner)
        if n_levels > 2 and parts is not None:
            self.joint_model_, self.effect_models_ = fit_stacked(parts, X, residual, exposure,
                                                                 weight)
            return
        if n_levels == 2:
            a = exposure[:, 0]
            safe = xp.where(a != 0, a, xp.ones_like(a))
            self.effect_models_ = [self._fit_weighted(self.effect_learner, "effect_learner", X,
                                                      residual / safe, weight * a**2)]
            return
        self.effect_models_ = backfit(
            lambda target, w: self._fit_weighted(self.effect_learner, "effect_learner", X,
                                                 target, w),
            X, residual, exposure, weight)

    def _fit_pairwise(self, X: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                      codes: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]],
                      r: np.ndarray) -> None:
        """``K`` binary R-learners, level ``k``'s on the rows of levels 0 and ``k``."""
        xp = array_namespace(X)
        self.outcome_models_, self.effect_models_ = [], []
        for k in range(1, len(self.classes_)):
            pair = (codes == 0) | (codes == k)
            host_pair = to_numpy(pair, "w")
            predictions, tests = [], []
            models = []
            for train, test in folds:
                train, test = train[host_pair[train]], test[host_pair[test]]
                model = self._fit_weighted(self.base_learner, "base_learner",
                                           take_rows(X, train), take_rows(outcome, train),
                                           take_rows(weight, train))
                predictions.append(model.predict(take_rows(X, test)))
                tests.append(test)
                models.append(model)
            self.outcome_models_.append(models)
            m = xp.zeros_like(outcome)  # the pair's rows in row order (the mask's order)
            m[pair] = take_rows(xp.concat(predictions), np.argsort(np.concatenate(tests)))
            a = xp.astype(codes == k, r.dtype) - r[:, k] / (r[:, 0] + r[:, k])
            safe = xp.where(a != 0, a, xp.ones_like(a))
            self.effect_models_.append(self._fit_weighted(
                self.effect_learner, "effect_learner", X, (outcome - m) / safe,
                xp.where(pair, weight * a**2, xp.zeros_like(a))))

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        return predict_columns(self.effect_models_, X)
