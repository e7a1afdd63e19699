"""Doubly robust AIPCW estimator of the average treatment effect on a censored outcome."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from .._nuisance import check_clip, clip_propensity
from .._validation import check_horizon, check_target, default_horizon, validate_fit_inputs
from ..imputation._censoring import fit_censoring_model
from ..survival._checks import wald_interval
from ._nuisance import outcome_model, propensity_scores
from ._scores import outcome_mean, transformed_outcome

#: Fewest events up to the horizon that each treatment arm must have.
MIN_ARM_EVENTS = 10


class AIPCW(BaseEstimator):
    r"""Augmented inverse-probability-of-censoring weighted (AIPCW) estimate of the ATE.

    Estimand, for ``f(T) = min(T, h)`` (``target="rmst"``) or ``1{T > h}``
    (``target="survival"``): :math:`\tau = E[f(T(1))] - E[f(T(0))]`, the RMST difference or
    the survival-probability difference at ``h``.

    Each row gets the efficient-influence-function score (Tsiatis 2006, ch. 10; Bai, Tsiatis &
    O'Brien 2013)

    .. math::

        \psi_i = m_1(X_i) - m_0(X_i)
                 + \frac{W_i}{e(X_i)}\,\big(U_{1i} - m_1(X_i)\big)
                 - \frac{1 - W_i}{1 - e(X_i)}\,\big(U_{0i} - m_0(X_i)\big),

    with :math:`m_w(x) = E[f(T) \mid x, w]` from the outcome model :math:`S_w(t \mid x)` and
    :math:`U_{w}` the augmented IPCW transformation of the row's censored outcome under arm
    ``w``'s outcome and censoring models (:mod:`survhte.inference._scores`):

    .. math::

        U = \frac{\tilde\Delta f(\tilde Y)}{G(\tilde Y-)}
            + \frac{(1 - \tilde\Delta)\,Q(\tilde Y)}{G(\tilde Y)}
            - \int_0^{\tilde Y} \frac{Q(u)\, d\Lambda_C(u)}{G(u)},
        \qquad Q(u) = E[f(T) \mid T > u, x, w],

    where :math:`\tilde Y = \min(Y, h)` and :math:`\tilde\Delta = 1\{\delta = 1
    \text{ or } Y \ge h\}`. Then :math:`\hat\tau = \frac1n\sum_i \psi_i` and
    :math:`\widehat{\mathrm{se}} = \mathrm{sd}(\psi) / \sqrt n`. The nuisances are
    cross-fitted (each row's from models fitted on the other folds). The estimate is
    consistent when ``e`` or ``S`` is correct and ``G`` or ``S`` is correct (double
    robustness; Rotnitzky & Robins 2005), and the interval is valid when the nuisance errors
    shrink fast enough (product rates ``o(n^{-1/2})``, Chernozhukov et al. 2018). Needs
    unconfoundedness, positivity of treatment and of follow-up to ``h``, and censoring
    independent of ``T`` given ``(X, W)``.

    Parameters
    ----------
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
        ``h``: at most every arm's last observed time. ``None``: the smallest arm's last
        observed time (survRM2's default, :func:`survhte._validation.default_horizon`).
    outcome_model : survival model, "km" or None, default None
        Model of ``S_w(t | x)``, fitted in each arm: ``None`` is
        :class:`~survhte.survival.CoxPH` (ridge 0.01; correct under proportional
        hazards within each arm); ``"km"`` the Kaplan-Meier curve of the arm (covariates
        ignored); or any base model with ``unique_times_``.
    censoring_model : "km", "cox" or survival model, default "km"
        Model of ``G_w(t | x)``, fitted in each arm on ``1 - event``: Kaplan-Meier (censoring
        independent of ``X`` within the arm, as in a trial with administrative censoring),
        :class:`CoxPH` on ``X``, or any base model.
    propensity_model : classifier, float, "constant" or None, default None
        Model of ``e(x) = P(W = 1 | x)``. ``None``: cubic splines + ridge logistic regression
        (:func:`~survhte._propensity.default_propensity_model`: calibrated, smooth,
        regularised, because inverse weights punish over-confident probabilities).
        A float is a known constant (an RCT); ``"constant"`` the treated share of the training
        folds. Known per-row propensities go to :meth:`fit`.
    n_folds : int, default 5
        Cross-fitting folds (stratified by arm and event). 1 fits and evaluates every nuisance
        on all rows (no cross-fitting: for parametric nuisances and exact checks).
    propensity_clip : float, default 0.01
        ``e`` is clipped to ``[clip, 1 - clip]``; a warning reports the share of rows clipped.
    censoring_floor : float, default 0.01
        ``G`` is bounded below by this value; a warning reports the share of rows whose own
        ``G`` was below it.
    random_state : int, RandomState or None, default None
        Seeds the fold split.

    Attributes
    ----------
    ate_ : float
    std_error_ : float
    scores_ : ndarray of shape (n,)
        :math:`\psi_i`; ``ate_`` is their mean.
    arm_means_ : ndarray of shape (2,)
        AIPCW estimates of :math:`E[f(T(0))]` and :math:`E[f(T(1))]`.
    propensity_ : ndarray of shape (n,)
        Cross-fitted (or known) ``e(X_i)`` after clipping.
    horizon_ : float
    classes_ : ndarray
        Treatment labels; ``classes_[1]`` is the treated level.
    n_features_in_ : int

    References
    ----------
    Tsiatis, A. A. (2006). *Semiparametric Theory and Missing Data*. Springer, ch. 9-10.
    Bai, X., Tsiatis, A. A. & O'Brien, S. M. (2013). Doubly-robust estimators of
    treatment-specific survival distributions in observational studies with stratified
    sampling. *Biometrics*, 69(4), 830-839.
    Rotnitzky, A. & Robins, J. M. (2005). Inverse probability weighted estimation in survival
    analysis. *Encyclopedia of Biostatistics*.
    Cui, Y., Kosorok, M. R., Sverdrup, E., Wager, S. & Zhu, R. (2023). Estimating heterogeneous
    treatment effects with right-censored data via causal survival forests. *JRSS-B*, 85(2).
    Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and
    structural parameters. *The Econometrics Journal*, 21(1), C1-C68.

    Examples
    --------
    >>> from survhte.simulate import survhte_bench
    >>> from survhte.inference import AIPCW
    >>> d = survhte_bench("RCT-50", "A", n=1000, random_state=0)
    >>> est = AIPCW(horizon=1.0, propensity_model=0.5, random_state=0).fit(d.X, d.y, d.w)
    >>> lower, upper = est.confidence_interval(0.05)
    """

    def __init__(
        self,
        target: str = "rmst",
        horizon: float | None = None,
        *,
        outcome_model: Any = None,
        censoring_model: Any = "km",
        propensity_model: Any = None,
        n_folds: int = 5,
        propensity_clip: float = 0.01,
        censoring_floor: float = 0.01,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.target = target
        self.horizon = horizon
        self.outcome_model = outcome_model
        self.censoring_model = censoring_model
        self.propensity_model = propensity_model
        self.n_folds = n_folds
        self.propensity_clip = propensity_clip
        self.censoring_floor = censoring_floor
        self.random_state = random_state

    def _check_params(self) -> None:
        check_target(self.target)
        n = self.n_folds
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n_folds must be a positive integer; got {n!r}.")
        check_clip(self.propensity_clip)
        if not 0 < self.censoring_floor < 1:
            raise ValueError(f"censoring_floor must be in (0, 1); got {self.censoring_floor!r}.")

    def _resolve_horizon(self, time: np.ndarray, event: np.ndarray, codes: np.ndarray) -> float:
        """The horizon, checked against each arm's follow-up and events."""
        horizon = (default_horizon(time, codes) if self.horizon is None
                   else check_horizon(self.horizon, time))
        for code, label in enumerate(self.classes_.tolist()):
            rows = codes == code
            last = float(time[rows].max())
            if horizon > last:
                censored = "every row is censored before it" if not event[rows].any() else ""
                raise ValueError(
                    f"horizon={horizon:g} is beyond the last observed time {last:g} in treatment "
                    f"arm {label!r}{': ' + censored if censored else ''}; choose a horizon "
                    f"<= {default_horizon(time, codes):g}."
                )
            n_events = int(np.sum(event[rows] & (time[rows] <= horizon)))
            if n_events < MIN_ARM_EVENTS:
                raise ValueError(
                    f"treatment arm {label!r} has {n_events} event(s) up to horizon="
                    f"{horizon:g}; the AIPCW outcome and censoring models need at least "
                    f"{MIN_ARM_EVENTS}. Choose a later horizon or pool arms."
                )
        return horizon

    def _known_propensity(self, propensity: Any, n: int) -> np.ndarray | None:
        if propensity is None:
            return None
        values = np.asarray(propensity, dtype=np.float64)
        if values.shape != (n,):
            raise ValueError(f"propensity must have shape ({n},); got {values.shape}.")
        if not np.all((values > 0) & (values < 1)):
            raise ValueError("propensity must lie strictly between 0 and 1.")
        return values

    def _folds(self, codes: np.ndarray, event: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        rows = np.arange(codes.shape[0])
        if self.n_folds == 1:
            return [(rows, rows)]
        split = StratifiedKFold(self.n_folds, shuffle=True, random_state=self.random_state)
        return list(split.split(rows, 2 * codes + event))

    def fit(self, X: Any, y: Any, w: Any, propensity: Any = None) -> AIPCW:
        """Estimate the ATE.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        y : structured array (event, time), tuple (time, event), (n, 2) array or DataFrame
        w : array-like of shape (n,)
            Binary treatment (codes 0/1 or two labels; the second sorted label is treated).
        propensity : array-like of shape (n,), optional
            Known ``P(W = 1 | X_i)`` (e.g. a trial's randomisation probabilities); replaces
            ``propensity_model``.

        Returns
        -------
        self
        """
        self._check_params()
        X, _, time, event, codes, classes = validate_fit_inputs(X, y, w)
        if classes.size != 2:
            raise ValueError(
                f"w has {classes.size} levels; AIPCW estimates a binary contrast (2 levels)."
            )
        self.classes_ = classes
        self.n_features_in_ = X.shape[1]
        self.horizon_ = self._resolve_horizon(time, event, codes)
        known = self._known_propensity(propensity, X.shape[0])

        n = X.shape[0]
        e = np.empty(n)
        means = np.empty((n, 2))
        transformed = np.empty(n)
        floored = np.zeros(n, dtype=bool)
        for train, test in self._folds(codes, event):
            e[test] = (known[test] if known is not None else
                       propensity_scores(self.propensity_model, X[train], codes[train], X[test]))
            for code in (0, 1):
                arm = train[codes[train] == code]
                if not event[arm].any():
                    raise ValueError(
                        f"treatment arm {self.classes_[code]!r} has no events in a training "
                        "fold; use fewer folds."
                    )
                model = outcome_model(self.outcome_model).fit(X[arm], time[arm], event[arm])
                censoring = fit_censoring_model(self.censoring_model, X[arm], time[arm],
                                                event[arm])
                means[test, code] = outcome_mean(model, X[test], self.horizon_, self.target)
                rows = test[codes[test] == code]
                transformed[rows], floored[rows] = transformed_outcome(
                    model, censoring, X[rows], time[rows], event[rows], self.horizon_,
                    self.target, self.censoring_floor,
                )
        self.propensity_ = clip_propensity(
            e, self.propensity_clip, stacklevel=2,
            consequence="the ATE leans on the outcome model there",
        )
        self._warn_floor(floored)
        treated = codes == 1
        arm_scores = np.column_stack([
            means[:, 0] + ~treated / (1 - self.propensity_) * (transformed - means[:, 0]),
            means[:, 1] + treated / self.propensity_ * (transformed - means[:, 1]),
        ])
        self.arm_means_ = arm_scores.mean(axis=0)
        self.scores_ = arm_scores[:, 1] - arm_scores[:, 0]
        self.ate_ = float(self.scores_.mean())
        self.std_error_ = float(self.scores_.std(ddof=1) / np.sqrt(n))
        return self

    def _warn_floor(self, floored: np.ndarray) -> None:
        if floored.any():
            warnings.warn(
                f"censoring survival G below censoring_floor={self.censoring_floor:g} for "
                f"{floored.mean():.1%} of the rows ({int(floored.sum())}): little follow-up to "
                f"horizon={self.horizon_:g}; consider an earlier horizon.",
                UserWarning,
                stacklevel=3,
            )

    def ate(self) -> float:
        """The AIPCW ATE estimate."""
        check_is_fitted(self)
        return self.ate_

    def confidence_interval(self, alpha: float = 0.05) -> tuple[float, float]:
        """Wald interval ``ate_ -+ z_{1 - alpha/2} std_error_``."""
        check_is_fitted(self)
        return wald_interval(self.ate_, self.std_error_, alpha)

    def ate_interval(self, alpha: float = 0.05) -> tuple[float, float]:
        """Same as :meth:`confidence_interval` (the package-wide name)."""
        return self.confidence_interval(alpha)
