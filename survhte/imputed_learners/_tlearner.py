"""T-learner on an imputed censored outcome: one regression per treatment level."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ._base import OneStageLearner, predict_columns
from ._defaults import default_outcome_regressor


class TLearner(OneStageLearner):
    r"""T-learner: regress the imputed outcome on ``X`` separately in each treatment level.

    With ``f(T) = min(T, h)`` (``target="rmst"``) or ``1{T > h}`` (``target="survival"``) and
    :math:`\tilde Y` its imputation (or the IPCW-weighted observed value, see ``imputation``),
    :math:`\hat\mu_k(x)` regresses :math:`\tilde Y` on ``X`` among the rows with ``W = k`` and

    .. math:: \hat\tau_k(x) = \hat\mu_k(x) - \hat\mu_0(x)

    estimates :math:`\tau_k(x) = E[f(T(k)) - f(T(0)) \mid X = x]` (the RMST or survival
    difference at ``h``) under unconfoundedness, positivity and censoring independent of ``T``
    given ``(X, W)`` (of ``X`` too, within an arm, for the marginal imputations).

    Parameters
    ----------
    base_learner : regressor, default None
        Any scikit-learn regressor (cloned per level, never modified). ``None``:
        :func:`~survhte.imputed_learners.default_outcome_regressor`, the best of a ridge on
        splines and two early-stopped boosters by 3-fold cross-validation, per level. With it
        (or any regressor with ``predict_out_of_fold``, such as
        :class:`~survhte.imputed_learners.CrossValidatedRegressor`) the CATE is calibrated
        toward its mean: ``center + slope * (tau(x) - center)``, ``slope`` the held-out
        regression slope, clipped to ``[0, 1]``, of each row's AIPW pseudo-outcome (arm shares
        as propensities, out-of-fold level means) on its out-of-fold CATE; ``center`` the mean
        CATE of the training rows (the average effects are unchanged). Without detectable
        heterogeneity the slope is near 0 and the CATE near the average effect.
    imputation : {"pseudo", "pseudo-cox", "margin", "ipcwt", "ipcw"} or imputer, default "pseudo"
        How censored rows enter. ``"pseudo"``: jackknife pseudo-observations of the
        Kaplan-Meier RMST / survival (:class:`~survhte.imputation.PseudoObservations`), whose
        conditional mean given ``X`` is the target when censoring does not depend on ``X``
        within an arm; the default because it is (asymptotically) unbiased, where
        ``"margin"`` (:class:`~survhte.imputation.Margin`) and ``"ipcwt"``
        (:class:`~survhte.imputation.IPCWT`) replace a censored time by a covariate-free best
        guess and shrink effects towards zero. ``"pseudo-cox"``: their augmented IPCW
        version for censoring that depends on ``X``, with a Cox model of the censoring on
        ``X`` within each arm (``PseudoObservations(censoring="cox")``; Binder et al. 2014,
        Overgaard et al. 2019). ``"ipcw"``: complete cases weighted by
        ``1 / G(min(Y, h)- | w)`` (Kaplan-Meier per arm; pass
        ``IPCWeights(censoring="cox")`` for ``G`` given ``(X, W)``). Any imputer with
        ``fit(y)``/``fit_transform(y)`` is cloned; its ``target`` and ``horizon`` are set to
        the learner's. Imputers are fitted within each treatment arm, on the training rows only.
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
        ``h``; at most every arm's last observed time. ``None``: the smallest arm's last
        observed time (:func:`survhte._validation.default_horizon`).
    n_bootstrap : int, default 200
        Refits of the percentile bootstrap of :meth:`ate_interval` (0 disables it).
    random_state : int, RandomState or None, default None
        Seeds the bootstrap and every cloned learner whose ``random_state`` is ``None``.
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    models_ : list of fitted regressors
        ``models_[k]`` is :math:`\hat\mu_k`, fitted on the rows with ``W = classes_[k]``.
    calibration_slope_, calibration_center_ : ndarray of shape (K,) or None
        The calibration (see ``base_learner``); ``None`` without out-of-fold predictions.
    classes_ : ndarray
        Treatment labels; ``classes_[0]`` is the control.
    horizon_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of str

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
    Andersen, P. K. & Perme, M. P. (2010). Pseudo-observations in survival analysis.
    *Statistical Methods in Medical Research*, 19(1), 71-99.
    Acharki, N., Lugo, R., Bertoncello, A. & Garnier, J. (2023). Comparison of meta-learners for
    estimating multi-valued treatment heterogeneous effects. *ICML*.

    Examples
    --------
    >>> from survhte.simulate import survhte_bench
    >>> from survhte.imputed_learners import TLearner
    >>> d = survhte_bench("RCT-50", "A", n=2000, random_state=0)
    >>> est = TLearner(horizon=1.0, random_state=0).fit(d.X, d.y, d.w)
    >>> est.predict(d.X[:3]).shape
    (3,)
    """

    _default_regressors: ClassVar[dict] = {"base_learner": default_outcome_regressor}
    _keeps_namespace: ClassVar[bool] = True

    def _fit_learner(self, X: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                     codes: np.ndarray) -> None:
        self.models_ = self._arm_means(self.base_learner, X, outcome, weight, codes)
        means = self._honest_arm_means(self.models_, X, weight, codes)
        fitted = predict_columns(self.models_, X)
        self._calibrate(None if means is None else means[:, 1:] - means[:, :1], means,
                        outcome, weight, codes, fitted[:, 1:] - fitted[:, :1])

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        means = predict_columns(self.models_, X)
        return self._calibrated(means[:, 1:] - means[:, :1])
