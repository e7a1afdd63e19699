"""Doubly robust AIPCW estimator of the average effect of each treatment level on a censored
outcome."""

from __future__ import annotations

import math
import warnings
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from array_api_compat import array_namespace, device
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._base import _squeeze, resolve_horizon
from .._nuisance import (
    CENSORING_FLOOR,
    MIN_ARM_EVENTS,
    NUISANCE_CONSTRAINTS,
    PROPENSITY_CLIP,
    check_level_probabilities,
    make_folds,
    propensity_matrix,
)
from .._params import HasMethods, Interval, Options, validate_params
from .._validation import TARGETS, take_rows, to_namespace, to_numpy, validate_fit_inputs
from ..imputation import fit_censoring_model
from ..survival import wald_interval
from ._nuisance import outcome_model
from ._scores import outcome_mean, transformed_outcome


class AIPCW(BaseEstimator):
    r"""Augmented inverse-probability-of-censoring weighted (AIPCW) estimate of the ATE.

    An average-effect estimator (no CATE, no ``predict``). Estimand, for each treated level
    ``k = 1..K`` vs the control ``0`` and ``f(T) = min(T, h)`` (``target="rmst"``) or
    ``1{T > h}`` (``target="survival"``):
    :math:`\tau_k = E[f(T(k))] - E[f(T(0))]`, the RMST difference or the
    survival-probability difference at ``h``.

    Each row gets, for each level ``k = 0..K``, the efficient-influence-function score of
    :math:`E[f(T(k))]` (Tsiatis 2006, ch. 10; Bai, Tsiatis & O'Brien 2013; multi-valued
    treatments as Cattaneo 2010)

    .. math::

        A_{ki} = m_k(X_i) + \frac{1\{W_i = k\}}{r_k(X_i)}\,\big(U_i - m_k(X_i)\big),
        \qquad \psi_{ki} = A_{ki} - A_{0i},

    with :math:`r_k(x) = P(W = k \mid x)` the generalised propensity,
    :math:`m_k(x) = E[f(T) \mid x, W = k]` from the outcome model :math:`S_k(t \mid x)`
    and :math:`U_i` the augmented IPCW transformation of the row's censored outcome under its
    own arm's outcome and censoring models (:mod:`survhte.inference._scores`):

    .. math::

        U = \frac{\tilde\Delta f(\tilde Y)}{G(\tilde Y-)}
            + \frac{(1 - \tilde\Delta)\,Q(\tilde Y)}{G(\tilde Y)}
            - \int_0^{\tilde Y} \frac{Q(u)\, d\Lambda_C(u)}{G(u)},
        \qquad Q(u) = E[f(T) \mid T > u, x, w],

    where :math:`\tilde Y = \min(Y, h)` and :math:`\tilde\Delta = 1\{\delta = 1
    \text{ or } Y \ge h\}`. Then :math:`\hat\tau_k = \frac1n\sum_i \psi_{ki}` and
    :math:`\widehat{\mathrm{se}}_k = \mathrm{sd}(\psi_k) / \sqrt n`; with two levels this is
    the binary AIPCW score :math:`m_1 - m_0 + \frac{W}{e}(U - m_1) - \frac{1-W}{1-e}(U - m_0)`.
    The nuisances are cross-fitted (each row's from models fitted on the other folds). The
    estimate is consistent when ``r`` or ``S`` is correct and ``G`` or ``S`` is correct
    (double robustness; Rotnitzky & Robins 2005), and the interval is valid when the nuisance
    errors shrink fast enough (product rates ``o(n^{-1/2})``, Chernozhukov et al. 2018). Needs
    unconfoundedness, positivity of every level and of follow-up to ``h``, and censoring
    independent of ``T`` given ``(X, W)``.

    Array-API inputs keep their namespace: with ``X``, ``y``'s arrays or ``w`` of a non-NumPy
    array-API library (CuPy on a GPU, ``array_api_strict``, ...), the inputs are validated in
    that namespace, the score and ATE arithmetic (:math:`A_{ki}`, :math:`\psi_{ki}`, their
    means and standard errors) runs there, and ``scores_``, ``arm_means_``,
    ``arm_outcome_means_``, ``transformed_outcome_`` and ``propensity_`` are arrays of it, on
    that device (``ate_`` and ``std_error_`` too for more than two levels; floats otherwise).
    The nuisances (outcome, censoring and propensity models, and :math:`U_i` from their curves)
    are fitted and evaluated on host NumPy copies, the documented boundary; their
    predictions are moved to the input's namespace and device before the arithmetic.

    Parameters
    ----------
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
        ``h``: at most every arm's last observed time. ``None``: the smallest arm's last
        observed time (survRM2's default, :func:`survhte._validation.default_horizon`).
    outcome_model : survival model, "km" or None, default None
        Model of ``S_k(t | x)``, fitted in each arm: ``None`` is
        :class:`~survhte.survival.CoxPH` (ridge 0.01; correct under proportional
        hazards within each arm); ``"km"`` the Kaplan-Meier curve of the arm (covariates
        ignored); or any base model with ``unique_times_``.
    censoring_model : "km", "cox" or survival model, default "km"
        Model of ``G_k(t | x)``, fitted in each arm: Kaplan-Meier (censoring independent of
        ``X`` within the arm, as in a trial with administrative censoring), :class:`CoxPH` on
        ``X``, or any base model (fitted on ``1 - event``).
    propensity_model : classifier, "constant", float, array or None, default None
        Model of :math:`r_k(x)` (:mod:`survhte._nuisance`, shared by every estimator).
        ``None``: cubic splines + ridge logistic regression
        (:func:`~survhte._nuisance.default_propensity_model`, multinomial for ``K > 1``:
        calibrated, smooth, regularised, because inverse weights punish over-confident
        probabilities); any classifier with ``predict_proba``; ``"constant"``: the arms'
        shares of the rows (a randomised trial); a float: a known ``P(W = classes_[1])`` of a
        binary trial; an array of ``K + 1`` known level probabilities. Known per-row
        propensities go to :meth:`fit`. Known values are used as given (not clipped).
    n_folds : int, default 5
        Cross-fitting folds (stratified by arm and event, :func:`survhte._nuisance.make_folds`).
        1 fits and evaluates every nuisance on all rows (no cross-fitting: for parametric
        nuisances and exact checks).
    propensity_clip : float, default 0.01
        Estimated :math:`r_k` are clipped to ``[clip, 1 - clip]`` (and renormalised); a
        warning reports the share of rows clipped: poor overlap.
    censoring_floor : float, default 0.05
        ``G`` is bounded below by this value (:data:`survhte._nuisance.CENSORING_FLOOR`, the
        package's one floor); a warning reports the share of rows whose own ``G`` was below it.
    random_state : int, RandomState or None, default None
        Seeds the fold split and any classifier whose ``random_state`` is ``None``.
    control : label, optional
        The reference treatment level (a value of ``w``); it becomes ``classes_[0]`` and every
        effect is against it. Default: 0 for integer codes, ``False`` for booleans, the first
        category of a pandas Categorical; labels such as strings must name it.

    Attributes
    ----------
    ate_ : float or ndarray of shape (K,)
        A float for a binary treatment.
    std_error_ : float or ndarray of shape (K,)
    scores_ : ndarray of shape (n,) or (n, K)
        :math:`\psi_{ki}`; ``ate_`` is their mean.
    arm_means_ : ndarray of shape (K + 1,)
        AIPCW estimates of :math:`E[f(T(k))]`, ``k = 0..K``.
    propensity_ : ndarray of shape (n,) or (n, K + 1)
        Cross-fitted (or known) :math:`r_k(X_i)` after clipping; binary: ``P(W = classes_[1])``.
    arm_outcome_means_ : ndarray of shape (n, K + 1)
        Cross-fitted :math:`m_k(X_i)`, ``k = 0..K`` (column ``k`` is level ``classes_[k]``).
    transformed_outcome_ : ndarray of shape (n,)
        :math:`U_i`, the AIPCW transformation of row ``i``'s censored outcome under its own
        arm's cross-fitted outcome and censoring models (:math:`E[U \mid X, W = k] = m_k(X)`);
        with ``arm_outcome_means_`` and ``propensity_`` the nuisances of the R-loss
        (:func:`survhte.metrics.r_loss`).
    horizon_ : float
    classes_ : ndarray
        Treatment labels; ``classes_[0]`` is the control.
    n_features_in_ : int

    References
    ----------
    Tsiatis, A. A. (2006). *Semiparametric Theory and Missing Data*. Springer, ch. 9-10.
    Bai, X., Tsiatis, A. A. & O'Brien, S. M. (2013). Doubly-robust estimators of
    treatment-specific survival distributions in observational studies with stratified
    sampling. *Biometrics*, 69(4), 830-839.
    Cattaneo, M. D. (2010). Efficient semiparametric estimation of multi-valued treatment
    effects under ignorability. *Journal of Econometrics*, 155(2), 138-154.
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

    _parameter_constraints: ClassVar[dict] = {
        "target": [Options(TARGETS)],
        "horizon": [None, Interval(float, 0, None, closed="neither")],
        "outcome_model": [None, Options({"km"}), HasMethods(("fit", "predict_survival"))],
        "censoring_model": [Options({"km", "cox"}), HasMethods(("fit", "predict_survival"))],
        "propensity_model": NUISANCE_CONSTRAINTS["propensity_model"],
        "n_folds": NUISANCE_CONSTRAINTS["n_folds"],
        "propensity_clip": [Interval(float, 0, 0.5, closed="left")],
        "censoring_floor": [Interval(float, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "control": ["no_validation"],
    }

    def __init__(
        self,
        target: str = "rmst",
        horizon: float | None = None,
        *,
        outcome_model: Any = None,
        censoring_model: Any = "km",
        propensity_model: Any = None,
        n_folds: int = 5,
        propensity_clip: float = PROPENSITY_CLIP,
        censoring_floor: float = CENSORING_FLOOR,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
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
        self.control = control

    def _resolve_horizon(self, time: np.ndarray, event: np.ndarray, codes: np.ndarray) -> float:
        """The horizon (every arm followed up to it), with ``MIN_ARM_EVENTS`` in each arm."""
        horizon = resolve_horizon(self.horizon, time, codes, self.classes_)
        for code, label in enumerate(self.classes_.tolist()):
            rows = codes == code
            n_events = int(np.sum(event[rows] & (time[rows] <= horizon)))
            if n_events < MIN_ARM_EVENTS:
                raise ValueError(
                    f"treatment arm {label!r} has {n_events} event(s) up to horizon="
                    f"{horizon:g} among {int(rows.sum())} rows; the AIPCW outcome and censoring "
                    f"models need at least {MIN_ARM_EVENTS}. Choose a later horizon or pool arms."
                )
        return horizon

    def _known_propensity(self, propensity: Any, n: int) -> np.ndarray | None:
        """Known ``r_k(X_i)`` given to :meth:`fit`, shape (n, K + 1), or ``None``."""
        if propensity is None:
            return None
        n_levels = len(self.classes_)
        values = np.asarray(propensity, dtype=np.float64)
        if n_levels == 2 and values.shape == (n,):  # P(W = classes_[1] | X_i)
            if not np.all((values > 0) & (values < 1)):
                raise ValueError("propensity must lie strictly between 0 and 1.")
            return np.column_stack([1 - values, values])
        return check_level_probabilities(values, n, n_levels, "propensity")

    def _folds(self, codes: np.ndarray, event: np.ndarray,
               rng: np.random.RandomState) -> list[tuple[np.ndarray, np.ndarray]]:
        """Folds stratified by arm and event (each fold trains on events of every arm)."""
        seed = (self.random_state if isinstance(self.random_state, Integral)
                else int(rng.randint(np.iinfo(np.int32).max)))
        return make_folds(codes, self.n_folds, seed, self.classes_,
                          strata=2 * codes + event)

    def fit(self, X: Any, y: Any, w: Any, propensity: Any = None) -> AIPCW:
        """Estimate the average effect of each treated level vs control.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        y : structured array (event, time), tuple (time, event), (n, 2) array or DataFrame
        w : array-like of shape (n,)
            Treatment: integer codes 0..K (0 = control) or labels (``control=`` names the
            reference; it becomes ``classes_[0]``).
        propensity : array-like of shape (n,) or (n, K + 1), optional
            Known :math:`r_k(X_i)` (e.g. a trial's randomisation probabilities): for a binary
            treatment ``P(W = classes_[1] | X_i)`` of shape (n,), otherwise one column per
            level of ``classes_``; replaces ``propensity_model``.

        Returns
        -------
        self
        """
        validate_params(self)
        X_kept, _, time_kept, event_kept, codes_kept, classes = validate_fit_inputs(
            X, y, w, control=self.control, keep_namespace=True)
        # Host copies of the 1-D arrays for the folds and the horizon (labels and summaries);
        # of X only where a CPU-only nuisance needs it (the documented boundary).
        time, event, codes = (to_numpy(part) for part in (time_kept, event_kept, codes_kept))
        host_X = _Lazy(lambda: to_numpy(X_kept, "X"))
        self.classes_ = classes
        self.n_features_in_ = X_kept.shape[1]
        n_levels = len(classes)
        self.horizon_ = self._resolve_horizon(time, event, codes)
        n = X_kept.shape[0]
        known = self._known_propensity(propensity, n)
        rng = check_random_state(self.random_state)
        folds = self._folds(codes, event, rng)

        xp = array_namespace(X_kept)
        mean_parts, score_parts, tests, arm_rows = [], [], [], []
        for train, test in folds:
            X_test = take_rows(X_kept, test)
            fold_means = []
            for code in range(n_levels):
                arm = train[codes[train] == code]
                if not event[arm].any():
                    raise ValueError(
                        f"treatment arm {self.classes_[code]!r} has no events in a training "
                        f"fold ({arm.size} rows); use fewer folds."
                    )
                model = outcome_model(self.outcome_model)
                model = model.fit(*self._nuisance_rows(model, arm, X_kept, time_kept,
                                                       event_kept, host_X))
                censoring = fit_censoring_model(
                    self.censoring_model,
                    *self._nuisance_rows(self.censoring_model, arm, X_kept, time_kept,
                                         event_kept, host_X))
                fold_means.append(outcome_mean(model, X_test, self.horizon_, self.target))
                rows = test[codes[test] == code]
                score_parts.append(transformed_outcome(
                    model, censoring, take_rows(X_kept, rows), take_rows(time_kept, rows),
                    take_rows(event_kept, rows), self.horizon_, self.target, self.censoring_floor,
                ))
                arm_rows.append(rows)
            mean_parts.append(xp.stack(fold_means, axis=1))
            tests.append(test)
        # Back to row order: every row is in one test fold, and in one arm of it.
        means = take_rows(xp.concat(mean_parts, axis=0), np.argsort(np.concatenate(tests)))
        row_order = np.argsort(np.concatenate(arm_rows))
        transformed = take_rows(xp.concat([part[0] for part in score_parts]), row_order)
        floored = take_rows(xp.concat([part[1] for part in score_parts]), row_order)
        if known is None:
            # A classifier reads X on the host; constant or known probabilities only count rows.
            spec = self.propensity_model
            X_r = host_X() if spec is None or hasattr(spec, "fit") else np.empty((n, 0))
            r = propensity_matrix(
                spec, X_r, codes, n_levels, folds, self.propensity_clip,
                int(rng.randint(np.iinfo(np.int32).max)),
                consequence="the ATE leans on the outcome model there; consider trimming the "
                            "rows without overlap")
        else:
            r = known
        self._warn_floor(floored)
        # Score arithmetic in the input's namespace, on its device.
        r = to_namespace(r, X_kept)
        codes = codes_kept
        levels = xp.arange(n_levels, dtype=codes.dtype, device=device(codes))
        indicators = xp.astype(xp.expand_dims(codes, axis=1) == levels, means.dtype)
        arm_scores = means + indicators / r * (xp.expand_dims(transformed, axis=1) - means)
        self.arm_means_ = xp.mean(arm_scores, axis=0)
        scores = [arm_scores[:, k] - arm_scores[:, 0] for k in range(1, n_levels)]
        self.scores_ = _squeeze_columns(scores)
        self.ate_ = _squeeze(xp.stack([xp.mean(score) for score in scores]))
        self.std_error_ = _squeeze(xp.stack([xp.std(score, correction=1) / math.sqrt(n)
                                             for score in scores]))
        self.propensity_ = r[:, 1] if n_levels == 2 else r
        self.arm_outcome_means_ = means
        self.transformed_outcome_ = transformed
        return self

    @staticmethod
    def _nuisance_rows(spec: Any, rows: np.ndarray, X: Any, time: Any, event: Any,
                       host_X: Any) -> tuple[Any, Any, Any]:
        """``(X, time, event)`` of ``rows`` for a nuisance model: in the input's namespace for
        a model that keeps it (the Kaplan-Meier models), host NumPy copies otherwise."""
        keeps = (isinstance(spec, str) and spec == "km") or getattr(spec, "_keeps_namespace",
                                                                      False)
        if keeps:
            return take_rows(X, rows), take_rows(time, rows), take_rows(event, rows)
        return (host_X()[rows], to_numpy(take_rows(time, rows)), to_numpy(take_rows(event, rows)))

    def _warn_floor(self, floored: Any) -> None:
        n_floored = int(array_namespace(floored).count_nonzero(floored))
        if n_floored:
            warnings.warn(
                f"censoring survival G below censoring_floor={self.censoring_floor:g} for "
                f"{n_floored / floored.shape[0]:.1%} of the rows ({n_floored}): little "
                "follow-up to "
                f"horizon={self.horizon_:g}; consider an earlier horizon.",
                UserWarning,
                stacklevel=3,
            )

    def ate(self) -> float | np.ndarray:
        """The AIPCW estimate of each treated level's average effect vs control.

        Returns
        -------
        float for a binary treatment, ndarray of shape (K,) otherwise
        """
        check_is_fitted(self)
        return self.ate_

    def confidence_interval(self, alpha: float = 0.05) -> tuple[Any, Any]:
        """Wald interval ``ate_ -+ z_{1 - alpha/2} std_error_``, per level.

        Returns
        -------
        (lower, upper) : floats for a binary treatment, arrays of shape (K,) otherwise
        """
        check_is_fitted(self)
        return wald_interval(self.ate_, self.std_error_, alpha)

    def ate_interval(self, alpha: float = 0.05) -> tuple[Any, Any]:
        """Same as :meth:`confidence_interval` (the package-wide name)."""
        return self.confidence_interval(alpha)


class _Lazy:
    """A value computed on first call and kept (a host copy made only where needed)."""

    def __init__(self, make: Any) -> None:
        self._make, self._value, self._done = make, None, False

    def __call__(self) -> Any:
        if not self._done:
            self._value, self._done = self._make(), True
        return self._value


def _squeeze_columns(columns: list[np.ndarray]) -> np.ndarray:
    """One column: itself (n,); several: stacked (n, K)."""
    return columns[0] if len(columns) == 1 else array_namespace(*columns).stack(columns, axis=1)
