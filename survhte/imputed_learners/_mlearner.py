"""M-learner (modified outcome) on an imputed censored outcome (Acharki et al. 2023)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._nuisance import NUISANCE_CONSTRAINTS, PROPENSITY_CLIP
from ._base import ImputedMetaLearner, one_hot, predict_columns
from ._defaults import default_effect_regressor


class MLearner(ImputedMetaLearner):
    r"""M-learner: regress the inverse-propensity modified outcome of each level on ``X``.

    With the target-scale outcome :math:`\tilde Y` (see :class:`TLearner`) and cross-fitted
    generalised propensities :math:`\hat r_k(x) = \hat P(W = k \mid x)`, Acharki et al.
    (2023) regress :math:`Z_k = 1\{W = k\}\tilde Y / \hat r_k(X)` on ``X`` for every level
    and take :math:`\hat\tau_k = \hat M_k - \hat M_0`. This class regresses the difference

    .. math::

        Z_k - Z_0 = (\tilde Y - c)\Big(\frac{1\{W = k\}}{\hat r_k(X)}
                     - \frac{1\{W = 0\}}{\hat r_0(X)}\Big)

    directly, one regression per treated level, so that the (calibrated) ``base_learner``
    shrinks the effect rather than each level's mean. By linearity of the conditional
    expectation its target is the same, :math:`E[Z_k - Z_0 \mid x] = \mu_k(x) - \mu_0(x)
    = \tau_k(x)` when :math:`\hat r` is correct, for any constant ``c``
    (:math:`E[1\{W=k\}/r_k - 1\{W=0\}/r_0 \mid x] = 0`); ``c`` is the (weighted) mean of
    :math:`\tilde Y`, which removes the outcome's level from the variance, as in
    :class:`~survhte.survival_model_learners.SurvivalMLearner`. With one treated level this
    is the transformed outcome of Athey & Imbens (2016). Unbiased but high-variance: the
    inverse propensities make it suffer where some :math:`r_k` is small (Acharki et al.);
    no outcome model enters. Estimand :math:`\tau_k(x) = E[f(T(k)) - f(T(0)) \mid X = x]`,
    ``f`` as in :class:`TLearner`, under unconfoundedness, positivity and censoring
    independent of ``T`` given ``(X, W)`` (of ``X`` too, within an arm, for the marginal
    imputations).

    Parameters
    ----------
    base_learner : regressor, default None
        Regressor of the modified outcome (cloned per treated level). ``None``:
        :func:`~survhte.imputed_learners.default_effect_regressor` (5-fold CV choice, shrunk
        toward the mean by the held-out slope: the modified outcome is mostly noise).
    propensity_model : classifier, "constant", float, array or None, default None
        :math:`\hat r_k`: any multi-class classifier with ``predict_proba``, cross-fitted
        (``None``: cubic B-splines + ridge logistic regression, multinomial for ``K > 1``),
        or a known design: ``"constant"`` (the arms' shares: an RCT), a float (binary
        ``P(W = classes_[1])``) or an array of each level's probability.
    propensity_clip : float, default 0.01
        Estimated :math:`\hat r_k` are clipped to ``[clip, 1 - clip]`` and renormalised; a
        warning reports the share of rows clipped (poor overlap).
    n_folds : int, default 5
        Cross-fitting folds of :math:`\hat r`, stratified by level.
    imputation : {"pseudo", "pseudo-cox", "margin", "ipcwt", "ipcw"} or imputer, default "pseudo"
        See :class:`TLearner`.
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
        See :class:`TLearner`.
    n_bootstrap : int, default 200
        Refits of the percentile bootstrap of :meth:`ate_interval` / :meth:`predict_interval`.
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
    modified_outcomes_ : ndarray of shape (n, K)
        :math:`Z_k - Z_0` of the training rows (0 where the weight is 0).
    classes_, horizon_, n_features_in_, feature_names_in_

    References
    ----------
    Acharki, N., Lugo, R., Bertoncello, A. & Garnier, J. (2023). Comparison of meta-learners for
    estimating multi-valued treatment heterogeneous effects. *ICML*, PMLR 202.
    Athey, S. & Imbens, G. (2016). Recursive partitioning for heterogeneous causal effects.
    *PNAS*, 113(27), 7353-7360.

    Examples
    --------
    >>> from survhte.simulate import stress_design
    >>> from survhte.imputed_learners import MLearner
    >>> d = stress_design("trial_4arm", n=1200, random_state=0)
    >>> est = MLearner(propensity_model="constant", horizon=24.0, n_bootstrap=0,
    ...                random_state=0).fit(d.X, d.y, d.w)
    >>> est.predict(d.X[:3]).shape
    (3, 3)
    """

    _parameter_constraints: ClassVar[dict] = {
        **ImputedMetaLearner._parameter_constraints,
        **NUISANCE_CONSTRAINTS,
    }

    _default_regressors: ClassVar[dict] = {"base_learner": default_effect_regressor}

    def __init__(
        self,
        base_learner: Any = None,
        *,
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
        self.propensity_model = propensity_model
        self.propensity_clip = propensity_clip
        self.n_folds = n_folds
        self.imputation = imputation
        self.target = target
        self.horizon = horizon
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.control = control

    def _fit_learner(self, X: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                     codes: np.ndarray) -> None:
        n_levels = len(self.classes_)
        r = self._propensity(X, codes, self._folds(codes))
        rows = weight > 0
        center = np.average(outcome[rows], weights=weight[rows])
        inverse = one_hot(codes, n_levels) / r
        modified = (outcome - center)[:, None] * (inverse[:, 1:] - inverse[:, [0]])
        self.effect_models_ = [
            self._fit_weighted(self.base_learner, "base_learner", X, modified[:, k], weight)
            for k in range(n_levels - 1)
        ]
        self.modified_outcomes_ = np.where(rows[:, None], modified, 0.0)

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        return predict_columns(self.effect_models_, X)
