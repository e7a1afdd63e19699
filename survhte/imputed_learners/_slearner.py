"""S-learner on an imputed censored outcome: one regression with the treatment as a feature."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from array_api_compat import array_namespace, device

from ._base import OneStageLearner, honest, honest_predictions, one_hot
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
        :func:`~survhte.imputed_learners.default_s_regressor`: chosen by 3-fold CV among a
        ridge on splines with treatment-by-spline interactions and two early-stopped boosters
        with larger trees than the other learners' (the effect is an interaction of the
        treatment indicators with ``X`` that heavily regularised trees never split on). The
        CATE is then calibrated toward its mean as in :class:`TLearner`, from the fold models'
        out-of-fold predictions of each row under every level.
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
    calibration_slope_, calibration_center_ : ndarray of shape (K,) or None
        See :class:`TLearner`.
    classes_, horizon_, n_features_in_, feature_names_in_

    Notes
    -----
    Array-API inputs keep their namespace (as scikit-learn's Array API support does): with
    ``X``, ``y``'s arrays and ``w`` of a non-NumPy array-API library (CuPy on a GPU,
    ``array_api_strict``, ...), a ``base_learner`` that supports scikit-learn's array API
    dispatch (e.g. ``Ridge(solver="svd")``) and ``imputation="pseudo"`` or ``"ipcw"``, the fit
    (validation, the imputation, the regressions), :meth:`predict`, :meth:`effect`, :meth:`ate`
    and the bootstrap intervals (resamples drawn and quantiles taken on the host, refits in the
    namespace) run in that namespace, on that device, and return arrays of it. Call them inside
    ``sklearn.config_context(array_api_dispatch=True)``, with the environment variable
    ``SCIPY_ARRAY_API=1`` set before SciPy is imported (scikit-learn's requirement). Treatment
    labels are encoded on the host. The default ``base_learner`` (splines and gradient
    boosting) has no array API support; the other imputations run on host copies.

    References
    ----------
    Kuenzel, S. R., Sekhon, J. S., Bickel, P. J. & Yu, B. (2019). Metalearners for estimating
    heterogeneous treatment effects using machine learning. *PNAS*, 116(10), 4156-4165.
    Acharki, N. et al. (2023). Comparison of meta-learners for estimating multi-valued treatment
    heterogeneous effects. *ICML*.

    Examples
    --------
    >>> from survhte.simulate import survhte_bench
    >>> from survhte.imputed_learners import SLearner
    >>> d = survhte_bench("RCT-50", "A", n=1000, random_state=0)
    >>> est = SLearner(horizon=1.0, n_bootstrap=0, random_state=0).fit(d.X, d.y, d.w)
    >>> est.predict(d.X[:3]).shape
    (3,)
    """

    _keeps_namespace: ClassVar[bool] = True
    _default_regressors: ClassVar[dict] = {"base_learner": default_s_regressor}

    def _fit_learner(self, X: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                     codes: np.ndarray) -> None:
        n_levels = len(self.classes_)
        xp = array_namespace(X)
        design = xp.concat((X, xp.astype(one_hot(codes, n_levels)[:, 1:], X.dtype)), axis=1)
        spec = self.base_learner
        if spec is None:  # the spline ridge's treatment interactions: the last K columns
            spec = default_s_regressor()
            spec.candidates[0].set_params(interact_last=n_levels - 1)
        self.model_ = self._fit_weighted(spec, "base_learner", design, outcome, weight)
        fitted = self._predict_core(X)
        if not honest(self.model_):
            self._calibrate(None, None, outcome, weight, codes, fitted)
            return
        rows = weight > 0
        means = np.column_stack([
            honest_predictions(self.model_, np.column_stack([X, self._indicators(X, k)]), rows)
            for k in range(n_levels)])
        self._calibrate(means[:, 1:] - means[:, [0]], means, outcome, weight, codes, fitted)

    def _indicators(self, X: np.ndarray, code: int) -> np.ndarray:
        """Treatment indicator columns of level ``code`` for every row of ``X``, in ``X``'s
        namespace."""
        xp = array_namespace(X)
        columns = xp.arange(len(self.classes_) - 1, device=device(X))
        row = xp.astype(columns == code - 1, X.dtype)
        return xp.broadcast_to(row, (X.shape[0], row.shape[0]))

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        xp = array_namespace(X)
        control = self.model_.predict(xp.concat((X, self._indicators(X, 0)), axis=1))
        effects = xp.stack([
            self.model_.predict(xp.concat((X, self._indicators(X, k)), axis=1)) - control
            for k in range(1, len(self.classes_))], axis=1)
        return self._calibrated(effects)
