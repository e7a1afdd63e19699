"""S-learner on an imputed censored outcome: one regression with the treatment as a feature."""

from __future__ import annotations

import numpy as np

from ._base import OneStageLearner, one_hot
from ._defaults import default_s_regressor


class SLearner(OneStageLearner):
    r"""S-learner: one regression of the imputed outcome on ``X`` and the treatment indicators.

    :math:`\hat\mu(x, w)` regresses the target-scale outcome :math:`\tilde Y` (see
    :class:`TLearner`) on ``[X, 1{W = 1}, ..., 1{W = K}]`` and

    .. math:: \hat\tau_k(x) = \hat\mu(x, k) - \hat\mu(x, 0),

    an estimate of :math:`E[f(T(k)) - f(T(0)) \mid X = x]`. Sharing one model pools the arms
    (good when effects are small relative to the prognostic signal); a regularised learner may
    shrink the effect towards zero when the treatment indicators explain little.

    Parameters
    ----------
    base_learner : regressor, default None
        Any scikit-learn regressor (cloned). ``None``:
        :func:`~survhte.imputed_learners.default_s_regressor`: early-stopped histogram gradient
        boosting with larger trees than the other learners' default, because the effect is an
        interaction of the treatment indicators with ``X`` that heavily regularised trees
        never split on.
    imputation : {"pseudo", "pseudo-cox", "margin", "ipcwt", "ipcw"} or imputer, default "pseudo"
        See :class:`TLearner`.
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
        See :class:`TLearner`.
    n_bootstrap : int, default 200
        Refits of the percentile bootstrap of :meth:`ate_interval`.
    random_state : int, RandomState or None, default None
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    model_ : fitted regressor on ``[X, one-hot W]``
    classes_, horizon_, n_features_in_, feature_names_in_

    References
    ----------
    Kuenzel, S. R., Sekhon, J. S., Bickel, P. J. & Yu, B. (2019). Metalearners for estimating
    heterogeneous treatment effects using machine learning. *PNAS*, 116(10), 4156-4165.
    Acharki, N. et al. (2023). Comparison of meta-learners for estimating multi-valued treatment
    heterogeneous effects. *ICML*.
    """

    _default_regressor = staticmethod(default_s_regressor)

    def _fit_learner(self, X: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                     codes: np.ndarray) -> None:
        design = np.column_stack([X, one_hot(codes, len(self.classes_))[:, 1:]])
        self.model_ = self._fit_weighted(self.base_learner, "base_learner", design, outcome,
                                         weight)

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        n, n_treated = X.shape[0], len(self.classes_) - 1
        control = self.model_.predict(np.column_stack([X, np.zeros((n, n_treated))]))
        effects = np.empty((n, n_treated))
        for k in range(n_treated):
            indicators = np.zeros((n, n_treated))
            indicators[:, k] = 1.0
            effects[:, k] = self.model_.predict(np.column_stack([X, indicators])) - control
        return effects
