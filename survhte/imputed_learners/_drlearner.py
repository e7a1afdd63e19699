"""DR-learner on an imputed censored outcome (Kennedy 2023), with an influence-function ATE."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._base import _squeeze
from ..survival._checks import wald_interval
from ._base import ImputedMetaLearner, one_hot, predict_columns


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

    ATE. :meth:`ate` is the augmented IPW mean :math:`\frac1n \sum_i \omega_i
    \hat\varphi_{ki}` (:math:`\omega \equiv 1` for imputations) and :meth:`ate_interval` the
    Wald interval with the influence-function standard error
    :math:`\mathrm{sd}(\omega\hat\varphi_k)/\sqrt n`. It treats the imputed outcome as
    observed: exact in the limit for pseudo-observations, whose jackknife values carry the
    Kaplan-Meier influence function (Andersen & Perme 2010); for the AIPCW treatment of
    censoring in the score itself use :class:`survhte.inference.AIPCW`.

    Parameters
    ----------
    base_learner : regressor, default None
        Outcome regressor of :math:`\mu_k`, cloned per fold and level. ``None``:
        :func:`~survhte.imputed_learners.default_regressor`.
    effect_learner : regressor, default None
        Final regressor of :math:`\hat\varphi_k` (cloned); ``None``: the default regressor.
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
    random_state : int, RandomState or None, default None
        Seeds the folds and every cloned learner whose ``random_state`` is ``None``.
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
    std_error_ : float or ndarray of shape (K,)
    classes_, horizon_, n_features_in_, feature_names_in_

    References
    ----------
    Kennedy, E. H. (2023). Towards optimal doubly robust estimation of heterogeneous causal
    effects. *Electronic Journal of Statistics*, 17(2), 3008-3049.
    Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and
    structural parameters. *The Econometrics Journal*, 21(1), C1-C68.
    Acharki, N. et al. (2023). Comparison of meta-learners for estimating multi-valued treatment
    heterogeneous effects. *ICML*.
    """

    def __init__(
        self,
        base_learner: Any = None,
        *,
        effect_learner: Any = None,
        propensity_model: Any = None,
        propensity_clip: float = 0.01,
        n_folds: int = 5,
        imputation: Any = "pseudo",
        target: str = "rmst",
        horizon: float | None = None,
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
        self.random_state = random_state
        self.control = control

    def _check_n_bootstrap(self) -> None:
        """No bootstrap: the interval comes from the influence function."""

    def _fit_learner(self, X: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                     codes: np.ndarray) -> None:
        n_levels = len(self.classes_)
        folds = self._folds(codes)
        r = self._propensity(X, codes, folds)
        means = np.empty((codes.size, n_levels))
        for train, test in folds:
            models = self._arm_means(self.base_learner, X[train], outcome[train],
                                     weight[train], codes[train])
            means[test] = predict_columns(models, X[test])
        augmented = means + one_hot(codes, n_levels) / r * (outcome[:, None] - means)
        phi = augmented[:, 1:] - augmented[:, [0]]
        rows = weight > 0
        self.effect_models_ = [
            self._fit_weighted(self.effect_learner, "effect_learner", X[rows], phi[rows, k],
                               weight[rows])
            for k in range(n_levels - 1)
        ]
        self.pseudo_outcomes_ = np.where(rows[:, None], weight[:, None] * phi, 0.0)
        self.ate_ = _squeeze(self.pseudo_outcomes_.mean(axis=0))
        self.std_error_ = _squeeze(self.pseudo_outcomes_.std(axis=0, ddof=1)
                                   / np.sqrt(codes.size))

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        return predict_columns(self.effect_models_, X)

    def ate(self) -> float | np.ndarray:
        """Augmented IPW estimate of the average effect of each treated level vs control.

        Returns
        -------
        float for a binary treatment, ndarray of shape (K,) otherwise
        """
        check_is_fitted(self)
        return self.ate_

    def ate_interval(self, alpha: float = 0.05) -> tuple[Any, Any]:
        """Wald ``1 - alpha`` interval ``ate_ -+ z_{1 - alpha/2} std_error_``.

        Parameters
        ----------
        alpha : float, default 0.05

        Returns
        -------
        (lower, upper) : floats for a binary treatment, arrays of shape (K,) otherwise
        """
        check_is_fitted(self)
        return wald_interval(self.ate_, self.std_error_, alpha)
