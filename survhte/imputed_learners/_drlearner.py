"""DR-learner on an imputed censored outcome (Kennedy 2023), with influence-function ATE, ATT
and ATC."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from array_api_compat import array_namespace

from .._base import _squeeze, population_rows, subpopulation_scores
from .._nuisance import NUISANCE_CONSTRAINTS, PROPENSITY_CLIP
from .._validation import take_rows, to_namespace, to_numpy
from ..survival import wald_interval
from ._base import REGRESSOR, ImputedMetaLearner, one_hot, predict_columns
from ._defaults import default_effect_regressor, default_regressor


class DRLearner(ImputedMetaLearner):
    r"""DR-learner: regress the cross-fitted AIPW pseudo-outcome of each level on ``X``.

    With the target-scale outcome :math:`\tilde Y` (see :class:`TLearner`), cross-fitted
    level means :math:`\hat\mu_k` and generalised propensities :math:`\hat r_k(x) =
    \hat P(W = k \mid x)` (each row's from models fitted on the other ``n_folds - 1`` folds),
    the pseudo-outcome of level ``k`` vs control is

    .. math::

        \hat\varphi_k = \hat\mu_k(X) - \hat\mu_0(X)
            + \frac{1\{W = k\}}{\hat r_k(X)}\big(\tilde Y - \hat\mu_k(X)\big)
            - \frac{1\{W = 0\}}{\hat r_0(X)}\big(\tilde Y - \hat\mu_0(X)\big),

    and :math:`\hat\tau_k` regresses :math:`\hat\varphi_k` on ``X``. Its conditional mean is
    :math:`\tau_k(x) = E[f(T(k)) - f(T(0)) \mid X = x]` when either :math:`\hat\mu` or
    :math:`\hat r` is correct, with an error of the order of the product of their errors
    (Kennedy 2023). With ``imputation="ipcw"`` the pseudo-outcome exists only on complete
    cases, which enter weighted by :math:`\omega = 1/G`.

    Average effects. :meth:`ate` and :meth:`ate_interval` use the cross-fitted nuisances
    directly (not the final regression), with Wald intervals from the influence function
    (standard error :math:`\mathrm{sd}(\text{score}) / \sqrt n`); :math:`\omega \equiv 1`
    for imputations, :math:`\omega = 1/G` on complete cases for ``"ipcw"``.

    - ``target_population="all"`` (ATE): the augmented IPW mean
      :math:`\frac1n \sum_i \omega_i \hat\varphi_{ki}`.
    - ``"treated"`` (effect on the rows that received level ``k``): the doubly robust ATT
      (Moodie, Saarela & Stephens 2018; Kennedy, Sjolander & Small 2015)

      .. math::

          \hat\tau_k^{T} = \frac{1}{n_k} \sum_i \omega_i \Big[1\{W_i = k\}\big(\tilde Y_i
              - \hat\mu_0(X_i)\big) - \frac{\hat r_k(X_i)}{\hat r_0(X_i)}\,1\{W_i = 0\}
              \big(\tilde Y_i - \hat\mu_0(X_i)\big)\Big],

      ``n_k`` the rows of level ``k``: the controls' residuals reweighted by the odds
      :math:`\hat r_k / \hat r_0` (``e / (1 - e)`` for a binary treatment) stand in for the
      treated rows' untreated outcome; consistent when :math:`\hat\mu_0` or the odds are.
    - ``"control"`` (effect on the control rows): symmetrically

      .. math::

          \hat\tau_k^{C} = \frac{1}{n_0} \sum_i \omega_i \Big[\frac{\hat r_0(X_i)}
              {\hat r_k(X_i)}\,1\{W_i = k\}\big(\tilde Y_i - \hat\mu_k(X_i)\big)
              - 1\{W_i = 0\}\big(\tilde Y_i - \hat\mu_k(X_i)\big)\Big].

    They treat the imputed outcome as observed: exact in the limit for pseudo-observations,
    whose jackknife values carry the Kaplan-Meier influence function (Andersen & Perme 2010);
    for the AIPCW treatment of censoring in the score itself use
    :class:`survhte.inference.AIPCW`. :meth:`predict_interval` is a percentile bootstrap of
    the whole fit (``n_bootstrap`` refits, stratified by arm).

    Parameters
    ----------
    base_learner : regressor, default None
        Outcome regressor of :math:`\mu_k`, cloned per fold and level. ``None``:
        :func:`~survhte.imputed_learners.default_regressor`.
    effect_learner : regressor, default None
        Final regressor of :math:`\hat\varphi_k` (cloned); ``None``:
        :func:`~survhte.imputed_learners.default_effect_regressor`: the best of a ridge on
        splines and two early-stopped boosters by 5-fold CV on :math:`\hat\varphi_k`, shrunk
        toward the AIPW mean by the slope of the held-out regression of :math:`\hat\varphi_k`
        on the out-of-fold predictions (clipped to ``[0, 1]``; ``effect_models_[k].slope_``).
        Inverse propensities make :math:`\hat\varphi` heavy-tailed: keep it regularised.
    propensity_model : classifier, "constant", float, array or None, default None
        ``None``: cubic B-splines + ridge logistic regression (multinomial for ``K > 1``);
        ``"constant"``: the arms' shares (an RCT); a float or array: known probabilities.
    propensity_clip : float, default 0.01
        Estimated :math:`\hat r_k` are clipped to ``[clip, 1 - clip]`` and renormalised; a
        warning reports the share of rows clipped.
    n_folds : int, default 5
        Cross-fitting folds of :math:`\hat\mu_k` and :math:`\hat r_k`, stratified by level.
    imputation : {"pseudo", "pseudo-cox", "margin", "ipcwt", "ipcw"} or imputer, default "pseudo"
        See :class:`TLearner`.
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
    n_bootstrap : int, default 200
        Refits of the percentile bootstrap of :meth:`predict_interval` only (the average
        effects' intervals come from the influence function); drawn on first use.
    random_state : int, RandomState or None, default None
        Seeds the folds, the bootstrap and every cloned learner whose ``random_state`` is
        ``None``.
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    effect_models_ : list of fitted regressors, one per treated level
    pseudo_outcomes_ : ndarray of shape (n, K)
        :math:`\omega\hat\varphi_k` of the training rows.
    ate_ : float or ndarray of shape (K,)
        ``ate("all")``.
    std_error_ : float or ndarray of shape (K,)
        Its influence-function standard error.
    classes_, horizon_, n_features_in_, feature_names_in_

    Notes
    -----
    Array-API inputs keep their namespace (as scikit-learn's Array API support does): with
    ``X``, ``y``'s arrays and ``w`` of a non-NumPy array-API library (CuPy on a GPU,
    ``array_api_strict``, ...), regressors that support scikit-learn's array API dispatch (e.g.
    ``Ridge(solver="svd")`` for ``base_learner`` and ``effect_learner``) and
    ``imputation="pseudo"`` or ``"ipcw"``, the fit (validation, imputation, regressions, the
    pseudo-outcome and its mean and standard error) and :meth:`predict` / :meth:`effect` /
    :meth:`ate` run in that namespace, on that device, and return arrays of it. Call them inside
    ``sklearn.config_context(array_api_dispatch=True)``, with the environment variable
    ``SCIPY_ARRAY_API=1`` set before SciPy is imported (scikit-learn's requirement). The
    propensity model is fitted and evaluated on host NumPy copies (the package's default is a
    spline basis, which has no array API support) and its probabilities are moved to the input's
    device; treatment labels are encoded on the host. The default regressors (splines and
    gradient boosting) have no array API support.

    References
    ----------
    Kennedy, E. H. (2023). Towards optimal doubly robust estimation of heterogeneous causal
    effects. *Electronic Journal of Statistics*, 17(2), 3008-3049.
    Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and
    structural parameters. *The Econometrics Journal*, 21(1), C1-C68.
    Acharki, N. et al. (2023). Comparison of meta-learners for estimating multi-valued treatment
    heterogeneous effects. *ICML*.
    Moodie, E. E. M., Saarela, O. & Stephens, D. A. (2018). A doubly robust weighting
    estimator of the average treatment effect on the treated. *Stat*, 7(1), e205.
    Kennedy, E. H., Sjolander, A. & Small, D. S. (2015). Semiparametric causal inference in
    matched cohort studies. *Biometrika*, 102(3), 739-746.

    Examples
    --------
    >>> from survhte.simulate import survhte_bench
    >>> from survhte.imputed_learners import DRLearner
    >>> d = survhte_bench("RCT-50", "A", n=2000, random_state=0)
    >>> est = DRLearner(horizon=1.0, random_state=0).fit(d.X, d.y, d.w)
    >>> lower, upper = est.ate_interval(0.05, target_population="treated")
    """

    _parameter_constraints: ClassVar[dict] = {
        **ImputedMetaLearner._parameter_constraints,
        "effect_learner": REGRESSOR,
        **NUISANCE_CONSTRAINTS,
    }

    _default_regressors: ClassVar[dict] = {"base_learner": default_regressor,
                                           "effect_learner": default_effect_regressor}

    def __init__(
        self,
        base_learner: Any = None,
        *,
        effect_learner: Any = None,
        propensity_model: Any = None,
        propensity_clip: float = PROPENSITY_CLIP,
        n_folds: int = 5,
        imputation: Any = "pseudo",
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
        parts = []
        for train, test in folds:
            models = self._arm_means(self.base_learner, take_rows(X, train),
                                     take_rows(outcome, train), take_rows(weight, train),
                                     take_rows(codes, train), fold=True)
            parts.append(predict_columns(models, take_rows(X, test)))
        # Back to row order: every row is in one test fold.
        order = np.argsort(np.concatenate([test for _, test in folds]))
        means = take_rows(xp.concat(parts, axis=0), order)
        augmented = means + one_hot(codes, n_levels) / r * (
            xp.expand_dims(outcome, axis=1) - means)
        phi = augmented[:, 1:] - augmented[:, :1]
        rows = weight > 0
        self.effect_models_ = [
            self._fit_weighted(self.effect_learner, "effect_learner", X[rows], phi[:, k][rows],
                               weight[rows])
            for k in range(n_levels - 1)
        ]
        self.pseudo_outcomes_ = xp.where(xp.expand_dims(rows, axis=1),
                                         xp.expand_dims(weight, axis=1) * phi,
                                         xp.zeros_like(phi))
        self.ate_ = _squeeze(xp.mean(self.pseudo_outcomes_, axis=0))
        self.std_error_ = _squeeze(xp.std(self.pseudo_outcomes_, axis=0, correction=1)
                                   / math.sqrt(codes.shape[0]))
        self._nuisances = (outcome, weight, means, r)

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        return predict_columns(self.effect_models_, X)

    def _population_scores(self, population: str) -> np.ndarray:
        """Per-row scores whose mean is each level's average effect over ``population``,
        shape (n, K): the AIPW pseudo-outcomes, or the doubly robust ATT / ATC terms
        scaled by ``n / n_k`` (``n / n_0``)."""
        if population == "all":
            return self.pseudo_outcomes_
        outcome, weight, means, r = self._nuisances
        host = [to_numpy(part) for part in (outcome, means, r, self._train[3], weight)]
        scores = subpopulation_scores(*host[:4], population, host[4])
        return to_namespace(scores, means)

    def _ate_core(self, population: str, alpha: float | None = None
                  ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """Doubly robust average effect over ``population`` (see the class docstring); Wald
        interval with the influence-function standard error."""
        scores = self._population_scores(population)
        xp = array_namespace(scores)
        estimate = xp.mean(scores, axis=0)
        if alpha is None:
            return estimate, None
        if population == "all":
            std_error = xp.std(scores, axis=0, correction=1) / math.sqrt(scores.shape[0])
        else:  # influence function: the scores minus the estimate on the population's rows
            members = xp.astype(to_namespace(
                population_rows(to_numpy(self._train[3]), population), scores), scores.dtype)
            share = xp.mean(members, axis=0)
            centred = scores - members / share * estimate
            std_error = xp.std(centred, axis=0, correction=1) / math.sqrt(scores.shape[0])
        return estimate, wald_interval(estimate, std_error, alpha)
