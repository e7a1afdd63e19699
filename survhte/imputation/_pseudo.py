"""Jackknife pseudo-observations of the Kaplan-Meier RMST or survival probability, and their
inverse-probability-of-censoring weighted version for covariate-dependent censoring."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .. import _kernels as kernels
from .._nuisance import CENSORING_FLOOR
from .._params import HasMethods, Interval, Options, validate_params
from .._validation import check_covariates, check_survival_outcome, to_namespace, to_numpy
from ..survival import MAX_CHUNK_VALUES, survival_at_rows
from ._base import like_outcome, resolve_horizon, to_target_scale
from ._censoring import fit_censoring_model


class PseudoObservations(BaseEstimator):
    r"""Pseudo-observations of the RMST or survival probability, optionally IPCW-augmented.

    **censoring="km" (default).** With :math:`\hat\theta` the Kaplan-Meier restricted mean up
    to ``h`` (``target="rmst"``) or survival probability :math:`\hat S(h)`
    (``target="survival"``) of the ``n`` training rows, the pseudo-observation of training
    row ``i`` is the jackknife (Andersen & Perme 2010)

    .. math::

        \hat\theta_i = n\,\hat\theta - (n - 1)\,\hat\theta_{(-i)},

    whose conditional mean given covariates is (asymptotically, under censoring independent
    of the covariates) :math:`E[\min(T, h) \mid X]` or :math:`P(T > h \mid X)`: a valid
    outcome for any regressor. Computed exactly in O(n log n) (one sort and prefix/suffix
    sums; :mod:`survhte._kernels.pseudo_observations`), equal to the n-refit jackknife. It is
    also the jackknife of the IPCW estimator below with :math:`G` re-estimated by the
    Kaplan-Meier curve of the censoring times in every leave-one-out sample: with events first
    at ties that estimator *is* the Kaplan-Meier functional (Satten & Datta 2001).

    **censoring="cox" or a survival model: covariate-dependent censoring.** Binder, Gerds &
    Andersen (2014) replace the Kaplan-Meier functional by the IPCW estimator

    .. math::

        \hat\theta = \frac1n \sum_i \frac{\Delta_i^h f(\tilde T_i)}{\hat G(\tilde T_i- \mid x_i)},
        \qquad \tilde T_i = \min(Y_i, h),\ \Delta_i^h = 1\{\delta_i = 1 \text{ or } Y_i \ge h\},

    with :math:`f(t) = \min(t, h)` or :math:`1\{t > h\}` and :math:`\hat G(t \mid x)` a model
    of :math:`P(C > t \mid x)`, and take its jackknife pseudo-values. With :math:`\hat G` held
    fixed the estimator is linear and the pseudo-value is just the IPCW complete-case outcome
    :math:`\Delta_i^h f(\tilde T_i) / \hat G(\tilde T_i- \mid x_i)`: conditionally unbiased,
    but zero for every row censored before ``h`` and huge where :math:`\hat G` is small (the
    meta-learners' ``imputation="ipcw"`` uses the same information as weights). Re-estimating
    :math:`\hat G` in each leave-one-out sample, the jackknife of the whole estimator, adds the
    estimation term of :math:`\hat G` that Overgaard, Parner & Pedersen (2019) analyse; it
    needs ``n`` refits of the censoring model, and for a Cox model its closed form needs the
    model's score and baseline-hazard influence functions. What is implemented is the
    practical first-order version: the augmented IPCW ("censoring unbiased") pseudo-value
    (Tsiatis 2006, Ch. 9-10)

    .. math::

        \hat\theta_i = \frac{\Delta_i^h f(\tilde T_i)}{\hat G(\tilde T_i- \mid x_i)}
            + \int_{[0, h)} \frac{\hat Q(u)}{\hat G(u \mid x_i)}\, d\hat M^C_i(u \mid x_i),

    where :math:`\hat Q(u) = E_{KM}[f(T) \mid T > u]` is the Kaplan-Meier conditional mean of
    the training rows and :math:`d\hat M^C_i = dN^C_i - 1\{\text{at risk}\}\,d\hat\Lambda^C(\cdot
    \mid x_i)` the row's censoring martingale increment under :math:`\hat G` (an event at
    ``t`` leaves the censoring risk set before a censoring at ``t``). Properties:

    - :math:`E[\hat\theta_i \mid X_i] = E[f(T) \mid X_i]` whenever :math:`G` is correct,
      whatever :math:`\hat Q` (the martingale term has mean zero): the bias of Kaplan-Meier
      pseudo-values under censoring that depends on ``X`` is removed;
    - rows censored before ``h`` keep information (:math:`\hat Q` at their censoring time), so
      the variance is lower than the complete-case outcome's;
    - identity: with the marginal model ``censoring=CensoringKaplanMeier()`` (and ``floor``
      not binding) the value is exactly :math:`\hat\theta_{KM} + \widehat{\mathrm{IF}}_i`,
      the infinitesimal-jackknife pseudo-value of the Kaplan-Meier functional (its empirical
      influence function), i.e. the first-order jackknife of the IPCW estimator with
      :math:`\hat G` re-estimated; it agrees with ``censoring="km"`` up to O(1/n) per row
      and has the same mean :math:`\hat\theta_{KM}` exactly. For a model of
      :math:`G(t \mid x)` the augmentation keeps the marginal :math:`\hat Q` (the term of a
      marginal censoring model) with :math:`\hat G(\cdot \mid x_i)` in place of
      :math:`\hat G`: simple, and unbiased whenever :math:`\hat G` is right.

    A variance that treats these pseudo-values as observed ignores the estimation of
    :math:`\hat G` (Overgaard et al. 2019 discuss the correction); the meta-learners'
    intervals bootstrap the whole fit or treat imputed outcomes as observed.

    New rows. For ``censoring="km"``, :meth:`transform` keeps the training statistics fixed
    and gives a row ``(y, delta)`` the pseudo-value of *adding* it to the training sample,

    .. math::

        \hat\theta_i^{+} = (n + 1)\,\hat\theta_{(+i)} - n\,\hat\theta,

    as SurvivalEVAL does for test rows: no row influences another's value. Like scikit-learn's
    ``TargetEncoder``, ``fit(y).transform(y)`` therefore differs from ``fit_transform(y)``
    (leave-one-out, the training rows' own pseudo-values): both are
    :math:`\hat\theta + \mathrm{IF}_i + O_p(1/n)`, and they differ by O(1/n) per row. For the
    IPCW version every row's value already depends only on the training fit (:math:`\hat G`,
    :math:`\hat Q`) and its own ``(y, delta, x)``, so ``transform`` applies the same formula
    and ``fit(y, X).transform(y, X)`` equals ``fit_transform(y, X)``.

    Array-API inputs keep their namespace. When ``y`` holds arrays of a non-NumPy array-API
    library (CuPy on a GPU, ``array_api_strict``, ...; a tuple ``(time, event)`` or an
    ``(n, 2)`` array), :meth:`fit_transform` and :meth:`transform` return arrays of that
    namespace, on that device. With ``censoring="km"`` the whole computation runs there (the
    O(n log n) kernels of :mod:`survhte._kernels.pseudo_observations` are written against the
    array API standard); the IPCW version fits its censoring model (Cox, or any base survival
    model) and evaluates its curves on host NumPy copies, and only its result is moved back.

    Parameters
    ----------
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
        ``h``, at most the last training time. ``None`` (``"rmst"`` only): the last training
        time.
    censoring : "km", "cox" or survival model, default "km"
        ``"km"``: the Kaplan-Meier jackknife above (``X`` unused). ``"cox"``:
        :class:`~survhte.survival.CoxPH` (ridge penalty 0.01) of the censoring
        times on ``X``; any base survival model (``fit(X, time, event)``,
        ``predict_survival``; e.g. :class:`~survhte.imputation.CensoringKaplanMeier`) is
        cloned and fitted on the censoring indicator, as in :class:`IPCWeights`. Within the
        meta-learners the imputer is fitted per treatment arm, so ``G`` depends on ``(X, W)``.
    floor : float, default 0.05
        Lower bound on :math:`\hat G` in the IPCW version (weights at most ``1 / floor``);
        a warning gives the share of rows where it binds. Unused for ``"km"``.

    Attributes
    ----------
    theta_ : float
        :math:`\hat\theta` of the training rows (``"km"``: the Kaplan-Meier functional; IPCW
        version: the mean of the training pseudo-values, the augmented IPCW estimate).
    censoring_model_ : fitted model or None
        :math:`\hat G` (``None`` for ``"km"``).
    horizon_ : float
    n_train_ : int
    n_features_in_ : int
        Number of columns of ``X`` (IPCW version only).

    References
    ----------
    Andersen, P. K. & Perme, M. P. (2010). Pseudo-observations in survival analysis.
    *Statistical Methods in Medical Research*, 19(1), 71-99.
    Andersen, P. K., Hansen, M. G. & Klein, J. P. (2004). Regression analysis of restricted
    mean survival time based on pseudo-observations. *Lifetime Data Analysis*, 10, 335-350.
    Binder, N., Gerds, T. A. & Andersen, P. K. (2014). Pseudo-observations for competing risks
    with covariate dependent censoring. *Lifetime Data Analysis*, 20(2), 303-315.
    Overgaard, M., Parner, E. T. & Pedersen, J. (2019). Pseudo-observations under
    covariate-dependent censoring. *Journal of Statistical Planning and Inference*, 202,
    112-122.
    Satten, G. A. & Datta, S. (2001). The Kaplan-Meier estimator as an inverse-probability-of-
    censoring weighted average. *The American Statistician*, 55(3), 207-210.
    Tsiatis, A. A. (2006). *Semiparametric Theory and Missing Data*. Springer.

    Examples
    --------
    >>> from survhte.imputation import PseudoObservations
    >>> po = PseudoObservations(horizon=3.0)
    >>> po.fit_transform(([1.0, 2.0, 3.0, 4.0], [1, 0, 1, 1])).round(6).tolist()
    [1.0, 3.0, 3.0, 3.0]
    """

    _parameter_constraints: ClassVar[dict] = {
        "target": [Options({"rmst", "survival"})],
        "horizon": [None, Interval(float, 0, None, closed="neither")],
        "censoring": [Options({"km", "cox"}), HasMethods(("fit", "predict_survival"))],
        "floor": [Interval(float, 0, 1, closed="neither")],
    }

    def __init__(self, target: str = "rmst", horizon: float | None = None,
                 censoring: Any = "km", floor: float = CENSORING_FLOOR) -> None:
        self.target = target
        self.horizon = horizon
        self.censoring = censoring
        self.floor = floor

    def _is_km(self) -> bool:
        return isinstance(self.censoring, str) and self.censoring == "km"

    def fit(self, y: Any, X: Any = None) -> PseudoObservations:
        """Fit on training rows (at least two, one event).

        Parameters
        ----------
        y : survival outcome, any accepted form
        X : array-like of shape (n, p), optional
            Covariates of the censoring model; needed unless ``censoring="km"``.

        Returns
        -------
        self
        """
        self._fit(y, X)
        return self

    def _fit(self, y: Any, X: Any) -> np.ndarray | None:
        """Fit; return the training pseudo-values of the IPCW version (None for ``"km"``)."""
        validate_params(self)
        time, event = check_survival_outcome(y, require_event=True,
                                             keep_namespace=self._is_km())
        if time.shape[0] < 2:
            raise ValueError("y has a single row: pseudo-observations need at least two.")
        self.horizon_ = resolve_horizon(self.target, self.horizon, time, untruncated=False)
        self.n_train_ = time.shape[0]
        table = kernels.risk_table(time, event)
        self._train = (time, event)
        if self._is_km():
            self.censoring_model_ = None
            self.theta_ = float(kernels.km_functional(table, self.horizon_, self.target))
            return None
        X = self._covariates(X, time.shape[0], fitting=True)
        self.censoring_model_ = fit_censoring_model(self.censoring, X, time, event)
        # Kaplan-Meier of the event times: Q(u) = E[f(T) | T > u].
        self._km = (table.timeline, kernels.survival_curve(table))
        jumps = getattr(self.censoring_model_, "unique_times_", None)
        grid = time[~event] if jumps is None else np.asarray(jumps, dtype=np.float64)
        self._grid = np.unique(grid[grid < self.horizon_])
        self._grid_q = self._conditional_mean(self._grid)
        values = self._ipcw_values(time, event, X)
        self.theta_ = float(values.mean())
        return values

    def _covariates(self, X: Any, n: int, *, fitting: bool) -> np.ndarray:
        if X is None:
            raise ValueError(
                f"censoring={self.censoring!r} models G(t | x): pass the covariates X."
            )
        X, _ = check_covariates(to_numpy(X, "X"),
                                n_features=None if fitting else self.n_features_in_)
        if X.shape[0] != n:
            raise ValueError(f"X has {X.shape[0]} rows but y has {n}.")
        if fitting:
            self.n_features_in_ = X.shape[1]
        return X

    def _conditional_mean(self, u: np.ndarray) -> np.ndarray:
        """``Q(u) = E_KM[f(T) | T > u]`` for ``u < h`` (``f(h)`` where ``S(u) = 0``)."""
        timeline, survival = self._km
        h = self.horizon_
        s_u = kernels.step_values(timeline, survival, u, 1.0)
        positive = s_u > 0
        safe = np.where(positive, s_u, 1.0)
        if self.target == "rmst":
            area = kernels.restricted_mean(timeline, survival, np.append(u, h))
            return np.where(positive, u + (area[-1] - area[:-1]) / safe, h)
        s_h = kernels.step_values(timeline, survival, np.array([h]), 1.0)[0]
        return np.where(positive, s_h / safe, 0.0)

    def _ipcw_values(self, time: np.ndarray, event: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Augmented IPCW pseudo-values of rows ``(time, event, X)`` from the training fit."""
        h, floor, model, grid = self.horizon_, self.floor, self.censoring_model_, self._grid
        n = time.shape[0]
        known = event | (time >= h)
        cutoff = np.minimum(time, h)
        g_left = survival_at_rows(model, X, cutoff, left=True)
        censored = ~known  # censored before h
        g_at = np.ones(n)
        if censored.any():
            g_at[censored] = survival_at_rows(model, X[censored], time[censored])
        low = (known & (g_left < floor)) | (censored & (g_at < floor))
        if low.any():
            warnings.warn(
                f"censoring survival G below floor={floor:g} for {low.mean():.1%} of the rows "
                f"({int(low.sum())}); their inverse weights are capped at {1 / floor:g}.",
                UserWarning,
                stacklevel=3,
            )
        outcome = to_target_scale(time, time, event, self.target, h)
        values = np.where(known, outcome / np.maximum(g_left, floor), 0.0)
        values[censored] += self._conditional_mean(time[censored]) / np.maximum(
            g_at[censored], floor)
        if grid.size == 0:
            return values
        # Compensator: sum over censoring jumps u at risk of Q(u) (1/G(u|x) - 1/G(u-|x)).
        # An event at u leaves the risk set first; a censoring at u is at risk at u.
        end = np.where(censored, np.searchsorted(grid, time, side="right"),
                       np.searchsorted(grid, cutoff, side="left"))
        step = max(1, MAX_CHUNK_VALUES // grid.size)
        for start in range(0, n, step):
            rows = slice(start, start + step)
            inverse = 1.0 / np.maximum(model.predict_survival(X[rows], grid), floor)
            increment = self._grid_q * np.diff(inverse, axis=1, prepend=1.0)
            at_risk = np.arange(grid.size) < end[rows, None]
            values[rows] -= np.sum(np.where(at_risk, increment, 0.0), axis=1)
        return values

    def fit_transform(self, y: Any, X: Any = None) -> np.ndarray:
        """Pseudo-observations of the training rows, shape (n,).

        ``"km"``: leave-one-out jackknife values; IPCW version: the formula above, equal to
        ``fit(y, X).transform(y, X)``. In the namespace of ``y``'s arrays.
        """
        values = self._fit(y, X)
        if values is not None:
            return like_outcome(values, y)
        time, event = self._train
        return kernels.jackknife_pseudo_values(time, event, self.horizon_, self.target)

    def transform(self, y: Any, X: Any = None) -> np.ndarray:
        """Pseudo-observations of any rows from training statistics only, shape (n,).

        ``"km"``: add-one values against the training sample (``X`` unused); IPCW version:
        the formula above with the training :math:`\\hat G` and :math:`\\hat Q`.
        """
        check_is_fitted(self)
        if self.censoring_model_ is None:
            time, event = check_survival_outcome(y, require_event=False, keep_namespace=True)
            train_time, train_event = (to_namespace(part, time) for part in self._train)
            return kernels.added_pseudo_values(train_time, train_event, time, event,
                                               self.horizon_, self.target)
        time, event = check_survival_outcome(y, require_event=False)
        X = self._covariates(X, time.shape[0], fitting=False)
        return like_outcome(self._ipcw_values(time, event, X), y)
