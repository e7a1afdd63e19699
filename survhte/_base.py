"""The one base of every CATE estimator in survhte, and the survival fit template.

:class:`CATEEstimator` is the contract (``docs/guide/contract.md``) for all three families
(imputed-outcome learners, survival-model learners, forests): ``predict``, ``effect``,
``predict_interval``, ``ate`` and ``ate_interval`` with one ``target_population`` vocabulary,
``classes_`` (control first, ``control=`` names it), ``feature_names_in_``/``n_features_in_``
checked at predict, and hyperparameters checked from the class's ``_parameter_constraints``. A
family implements

- ``_predict_core(X) -> ndarray (n, K)``: effect of each treated level vs control on validated
  ``X`` (``effect`` contrasts any two levels from it, or from ``_contrast``);
- ``_interval_core(X, alpha) -> (lower, upper)``, each (n, K);
- ``_ate_core(population) -> (estimate, lower_upper_fn)``: see :meth:`CATEEstimator._ate_core`.

:class:`SurvivalCATEEstimator` adds the survival fit (``target``, ``horizon``) and a stratified
bootstrap for learners without a closed-form variance: subclasses implement
``_fit_core(X, time, event, w_codes)`` on validated arrays.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from array_api_compat import array_namespace
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._params import Interval, Options, validate_params
from ._validation import (
    TARGETS,
    check_covariates,
    check_horizon,
    default_horizon,
    take_rows,
    to_namespace,
    to_numpy,
    validate_fit_inputs,
)


def _squeeze(effects: np.ndarray) -> np.ndarray | float:
    """(n, 1) -> (n,) and (1,) -> float for a binary treatment; unchanged for K > 1 levels."""
    if effects.shape[-1] != 1:
        return effects
    return float(effects[0]) if effects.ndim == 1 else effects[:, 0]


def level_code(classes: np.ndarray, level: Any, name: str) -> int:
    """Position of treatment label ``level`` (argument ``name``) in ``classes``."""
    matches = np.flatnonzero(classes == level)
    if matches.size != 1:
        raise ValueError(
            f"{name}={level!r} is not a treatment level; levels are {classes.tolist()}."
        )
    return int(matches[0])


def contrast_codes(classes: np.ndarray, t0: Any, t1: Any) -> tuple[int, int]:
    """The level codes of ``effect(X, t0, t1)``'s labels (default ``classes[0]``,
    ``classes[1]``)."""
    first = 0 if t0 is None else level_code(classes, t0, "t0")
    second = 1 if t1 is None else level_code(classes, t1, "t1")
    return first, second


def contrast(effects: np.ndarray, first: int, second: int) -> np.ndarray:
    """Effect of level code ``second`` vs ``first`` from the effects of each treated level vs
    control, ``effects`` of shape (n, K) (or (n,) for one treated level)."""
    xp = array_namespace(effects)
    if effects.ndim == 1:
        effects = xp.expand_dims(effects, axis=1)
    zeros = xp.zeros_like(effects[:, :1])
    effects = xp.concat((zeros, effects), axis=1)
    return effects[:, second] - effects[:, first]


#: Why ``score`` (or a scorer of :mod:`survhte.metrics`) called without ``w`` fails.
NO_TREATMENT = (
    "needs the treatment w of the scored rows. scikit-learn passes it to scorers only with "
    "metadata routing: call sklearn.set_config(enable_metadata_routing=True) (or use "
    "sklearn.config_context(enable_metadata_routing=True)) and pass w=w to GridSearchCV.fit, "
    "or params={'w': w} to cross_val_score; survhte estimators request w for fit and score."
)

#: ``target_population`` values of :meth:`CATEEstimator.ate`.
POPULATIONS = ("all", "treated", "control")


def check_alpha(alpha: Any) -> float:
    """``alpha`` of an interval: a number in (0, 1)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.number)) \
            or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number in (0, 1); got {alpha!r}.")
    return float(alpha)


def population_rows(codes: np.ndarray, population: Any) -> np.ndarray:
    """Boolean rows of the training data over which level ``k``'s average is taken, one
    column per treated level, shape (n, K).

    ``"all"``: every row; ``"treated"``: the rows that received level ``k`` (the effect on the
    treated, per level); ``"control"``: the rows of the control level.
    """
    if population not in POPULATIONS:
        raise ValueError(f"target_population must be one of {POPULATIONS}; got "
                         f"{population!r}.")
    levels = np.arange(1, int(codes.max()) + 1)
    if population == "all":
        return np.ones((codes.size, levels.size), dtype=bool)
    if population == "treated":
        return codes[:, None] == levels[None, :]
    return np.repeat((codes == 0)[:, None], levels.size, axis=1)


def subpopulation_scores(outcome: np.ndarray, means: np.ndarray, r: np.ndarray,
                         codes: np.ndarray, population: str, weight: Any = 1.0) -> np.ndarray:
    r"""Per-row scores (n, K) whose mean is each treated level's doubly robust average effect
    over the treated (``"treated"``) or the control (``"control"``) rows.

    For level ``k`` vs the control 0, with outcome ``Y`` (a pseudo- or transformed outcome),
    arm means :math:`m_j(x)` and propensities :math:`r_j(x)`, the ATT term is
    :math:`1\{W = k\}(Y - m_0) - \frac{r_k}{r_0} 1\{W = 0\}(Y - m_0)` and the ATC term
    :math:`\frac{r_0}{r_k} 1\{W = k\}(Y - m_k) - 1\{W = 0\}(Y - m_k)`, each times
    ``weight`` and scaled by ``n / n_k`` (``n / n_0``), so that their mean, added to the mean
    of :math:`m_k - m_0` over the population, is the doubly robust estimate (the efficient
    influence function of the effect on the treated, Hahn 1998).

    Parameters
    ----------
    outcome : ndarray of shape (n,)
    means : ndarray of shape (n, K + 1)
    r : ndarray of shape (n, K + 1)
    codes : ndarray of shape (n,), levels 0..K
    population : {"treated", "control"}
    weight : float or ndarray of shape (n,), default 1.0
    """
    members = population_rows(codes, population)
    control = codes == 0
    scores = np.empty(members.shape)
    for k in range(1, r.shape[1]):
        treated = codes == k
        if population == "treated":
            residual = outcome - means[:, 0]
            term = treated * residual - r[:, k] / r[:, 0] * control * residual
        else:
            residual = outcome - means[:, k]
            term = r[:, 0] / r[:, k] * treated * residual - control * residual
        scores[:, k - 1] = weight * term * codes.size / members[:, k - 1].sum()
    return scores


class CATEEstimator(BaseEstimator):
    """Base of every CATE estimator: the one contract (``docs/guide/contract.md``).

    Fitted attributes set by every family's ``fit`` (through :meth:`_set_fit_attributes`):
    ``classes_`` (treatment labels, the control first), ``n_features_in_`` and
    ``feature_names_in_``.
    """

    #: Parameter name -> accepted forms (:mod:`survhte._params`); checked at ``fit``.
    _parameter_constraints: ClassVar[dict] = {}
    #: Whether ``fit``/``predict`` can keep array-API inputs in their namespace and on their
    #: device (``survhte._validation``'s ``keep_namespace``); ``False``: they become NumPy
    #: arrays. :meth:`_keep_namespace` decides per call.
    _keeps_namespace: ClassVar[bool] = False

    # scikit-learn metadata routing: the treatment ``w`` is requested by ``fit`` and ``score``
    # by default, so that ``GridSearchCV(...).fit(X, y, w=w)`` and ``cross_val_score(...,
    # params={"w": w})`` split it with the rows and pass it to both (with
    # ``sklearn.set_config(enable_metadata_routing=True)``).
    __metadata_request__fit: ClassVar[dict] = {"w": True}
    __metadata_request__score: ClassVar[dict] = {"w": True}

    def _validate_params(self) -> None:
        validate_params(self)

    def _set_fit_attributes(self, X: Any, names: list[str], classes: np.ndarray) -> None:
        self.classes_ = classes
        self.n_features_in_ = len(names)
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self._fitted_frame = isinstance(X, pd.DataFrame)

    def _check_fitted(self) -> None:
        check_is_fitted(self, "classes_")

    def _check_X(self, X: Any) -> np.ndarray:
        """``X`` at predict: fitted first, same number of columns and, for a DataFrame fit and
        a DataFrame here, the same column names in the same order."""
        self._check_fitted()
        fitted = self.feature_names_in_ if vars(self).get("_fitted_frame", False) else None
        return check_covariates(X, n_features=self.n_features_in_, fitted_names=fitted,
                                keep_namespace=self._keep_namespace())[0]

    def _keep_namespace(self) -> bool:
        """Whether this call keeps array-API inputs in their namespace (``_keeps_namespace``)."""
        return self._keeps_namespace

    def predict(self, X: Any) -> np.ndarray:
        """Conditional average treatment effect of each treated level vs control.

        ``target="rmst"``: ``E[min(T(k), h) - min(T(0), h) | X = x]``;
        ``target="survival"``: ``P(T(k) > h | x) - P(T(0) > h | x)``, with ``h = horizon_``;
        an uncensored outcome (:class:`~survhte.forest.CausalForest`): ``E[Y(k) - Y(0) | x]``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)

        Returns
        -------
        ndarray of shape (n,) for a binary treatment, (n, K) for K treated levels
            Column ``k - 1`` is level ``classes_[k]`` vs ``classes_[0]`` (the control).
        """
        return _squeeze(self._predict_core(self._check_X(X)))

    def effect(self, X: Any, t0: Any = None, t1: Any = None) -> np.ndarray:
        """CATE of level ``t1`` vs level ``t0``: the estimand of :meth:`predict` for that pair.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        t0, t1 : treatment labels, default ``classes_[0]`` (the control) and ``classes_[1]``

        Returns
        -------
        ndarray of shape (n,)
        """
        return self._contrast(self._check_X(X), *contrast_codes(self.classes_, t0, t1))

    def _contrast(self, X: np.ndarray, first: int, second: int) -> np.ndarray:
        """Effect of level code ``second`` vs ``first`` on validated ``X``, shape (n,).

        From ``_predict_core``'s effects vs control; learners with per-level outcomes
        override it to difference those directly.
        """
        return contrast(self._predict_core(X), first, second)

    def predict_interval(self, X: Any, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise ``1 - alpha`` confidence interval of :meth:`predict` at each row of ``X``.

        How it is formed depends on the estimator (its docstring says): the little-bag
        variance of honest forests, an influence function, or a percentile bootstrap of the
        whole fit.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        alpha : float, default 0.05

        Returns
        -------
        lower, upper : ndarrays of the shape of :meth:`predict`
        """
        alpha = check_alpha(alpha)
        lower, upper = self._interval_core(self._check_X(X), alpha)
        return _squeeze(lower), _squeeze(upper)

    def _interval_core(self, X: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def ate(self, target_population: str = "all") -> float | np.ndarray:
        """Average treatment effect of each treated level vs control.

        Parameters
        ----------
        target_population : {"all", "treated", "control"}, default "all"
            Whose effect is averaged, over the training rows: ``"all"`` (the ATE), ``"treated"``
            (for level ``k``, the rows that received ``k``: the effect on the treated) or
            ``"control"`` (the rows of the control level).

        Returns
        -------
        float for a binary treatment, ndarray of shape (K,) otherwise
        """
        self._check_fitted()
        return _squeeze(self._ate_core(target_population)[0])

    def ate_interval(self, alpha: float = 0.05,
                     target_population: str = "all") -> tuple[Any, Any]:
        """``1 - alpha`` confidence interval of :meth:`ate` for the same population.

        Returns
        -------
        (lower, upper) : floats for a binary treatment, arrays of shape (K,) otherwise
        """
        self._check_fitted()
        alpha = check_alpha(alpha)
        lower, upper = self._ate_core(target_population, alpha)[1]
        return _squeeze(lower), _squeeze(upper)

    def _ate_core(self, population: str, alpha: float | None = None
                  ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """``(estimate (K,), (lower (K,), upper (K,)) or None)``; the interval is computed
        only when ``alpha`` is given."""
        raise NotImplementedError

    def score(self, X: Any, y: Any, w: Any = None) -> float:
        r"""Minus the doubly robust loss of the CATE on the rows ``X, y, w`` (higher is better).

        :math:`-\frac1{nK}\sum_{i,k} (\Gamma_{ki} - \hat\tau_k(X_i))^2` with
        :math:`\Gamma_{ki}` the AIPCW scores of these rows for this estimator's ``target``,
        ``horizon_`` and control, their nuisances (Cox outcome, Kaplan-Meier censoring,
        spline-logistic propensity) cross-fitted in 5 folds within the rows
        (:func:`survhte.metrics.dr_loss`; Saito & Yasui 2020). Differences between estimators
        scored on the same rows estimate differences of their CATE mean squared error, so
        scikit-learn's ``GridSearchCV`` and ``cross_val_score`` can choose among them without
        the true effect. Pass held-out rows, and give the estimator an explicit ``horizon``
        that every arm of every held-out fold follows up to: the default horizon (the smallest
        arm's last observed time in the fitted rows) usually lies beyond a fold's follow-up,
        where the scores are undefined (a ``ValueError`` that names the arm and its last
        time).

        scikit-learn passes ``w`` to ``score`` only with metadata routing (every survhte
        estimator requests ``w`` for ``fit`` and ``score``)::

            with sklearn.config_context(enable_metadata_routing=True):
                GridSearchCV(est, grid, cv=3).fit(X, y, w=w)
                cross_val_score(est, X, y, params={"w": w}, cv=3)

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        y : survival outcome of the rows
        w : array-like of shape (n,)
            Treatment of the rows, with every fitted level.

        Returns
        -------
        float
        """
        # survhte.metrics sits above every estimator family (it fits AIPCW nuisances), so it
        # is imported at call time, as scikit-learn's base classes import sklearn.metrics
        # (pyproject.toml's import-linter layers contract names this one exception).
        from .metrics import dr_loss

        if w is None:
            raise TypeError(f"{type(self).__name__}.score {NO_TREATMENT}")
        return -dr_loss(self, X, y, w)


class SurvivalCATEEstimator(CATEEstimator):
    """CATE of a censored outcome: survival fit template, horizon, stratified bootstrap.

    ``ate`` averages the fitted CATE over the population's training rows; ``ate_interval``
    and ``predict_interval`` are percentile intervals over ``n_bootstrap`` refits on
    resamples drawn within each arm (every arm keeps its size and, by redrawing, at least one
    event), drawn once on first use (seeded by ``random_state``) and kept.
    """

    _parameter_constraints: ClassVar[dict] = {
        "target": [Options(TARGETS)],
        "horizon": [None, Interval(float, 0, None, closed="neither")],
        "n_bootstrap": [Interval(int, 0, None)],
        "random_state": ["random_state"],
        "control": ["no_validation"],
    }

    def fit(self, X: Any, y: Any, w: Any) -> SurvivalCATEEstimator:
        """Fit the estimator.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
            Covariates.
        y : structured array (event, time), tuple (time, event), (n, 2) array or DataFrame
            Censored survival outcome.
        w : array-like of shape (n,)
            Treatment: integer codes 0..K (0 = control) or labels (stored in ``classes_``,
            the control first; ``control=`` names it).

        Returns
        -------
        self
        """
        self._validate_params()
        X_array, names, time, event, codes, classes = validate_fit_inputs(
            X, y, w, control=self.control, keep_namespace=self._keep_namespace())
        self._set_fit_attributes(X, names, classes)
        self.horizon_ = self._resolve_horizon(time, codes)
        self._fit_core(X_array, time, event, codes)
        self._train = (X_array, time, event, codes)
        self._replicates = None
        return self

    def _resolve_horizon(self, time: np.ndarray, codes: np.ndarray) -> float:
        """``horizon``, or the default, checked against every arm's follow-up."""
        return resolve_horizon(self.horizon, time, codes, self.classes_)

    def _bootstrap_replicates(self) -> list[Any]:
        """Refits on stratified resamples (drawn on first use): each arm resampled with
        replacement to its own size; a draw that leaves an arm without events before the
        horizon, or without follow-up to the horizon (the default horizon is the shortest
        arm's last time, held by one row), is redrawn, since such a replicate cannot be fitted
        at ``horizon_``; after 100 draws the bootstrap is refused with the arm and its
        numbers."""
        if self.n_bootstrap < 1:
            raise ValueError(
                f"{type(self).__name__} has n_bootstrap={self.n_bootstrap}; bootstrap "
                "intervals need n_bootstrap >= 1 (e.g. 200): set it and refit."
            )
        if self._replicates is not None:
            return self._replicates
        X_kept, time_kept, event_kept, codes_kept = self._train
        # The resamples are drawn on the host; the refits take their rows in the namespace
        # of the training arrays.
        time, event, codes = (to_numpy(part) for part in (time_kept, event_kept, codes_kept))
        rng = check_random_state(self.random_state)
        arms = [np.flatnonzero(codes == code) for code in range(len(self.classes_))]
        replicates = []
        for _ in range(self.n_bootstrap):
            parts = []
            for code, arm in enumerate(arms):
                for _attempt in range(100):
                    draw = rng.choice(arm, size=arm.size, replace=True)
                    if np.any(event[draw] & (time[draw] <= self.horizon_)) \
                            and time[draw].max() >= self.horizon_:
                        break
                else:
                    raise ValueError(
                        f"treatment arm {self.classes_[code]!r} has "
                        f"{int(np.sum(event[arm] & (time[arm] <= self.horizon_)))} event(s) "
                        f"up to horizon={self.horizon_:g} and "
                        f"{int(np.sum(time[arm] >= self.horizon_))} row(s) followed to it, "
                        f"among {arm.size} rows: 100 bootstrap resamples of it lacked one or "
                        "the other; an interval is not possible (choose an earlier horizon)."
                    )
                parts.append(draw)
            rows = np.concatenate(parts)
            replicate = self._new_replicate()
            replicate._set_fit_attributes(X_kept, list(self.feature_names_in_), self.classes_)
            replicate.horizon_ = self.horizon_
            train = tuple(take_rows(part, rows)
                          for part in (X_kept, time_kept, event_kept, codes_kept))
            replicate._fit_core(*train)
            replicate._train = train
            replicates.append(replicate)
        self._replicates = replicates
        return replicates

    def _new_replicate(self) -> Any:
        """An unfitted copy of this estimator for one bootstrap refit."""
        return clone(self)

    def _interval_core(self, X: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        """Percentile bootstrap interval of the CATE at each row of ``X`` (the quantiles, which
        the array API standard lacks, on the host; the bounds in the namespace of ``X``)."""
        draws = np.stack([to_numpy(rep._predict_core(X))
                          for rep in self._bootstrap_replicates()])
        lower, upper = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
        return to_namespace(lower, X), to_namespace(upper, X)

    def _plugin_ate(self, population: str) -> np.ndarray:
        """Mean CATE over the population's training rows, shape (K,)."""
        X, _, _, codes = self._train
        tau = self._predict_core(X)
        xp = array_namespace(tau)
        rows = xp.astype(to_namespace(population_rows(to_numpy(codes), population), tau),
                         tau.dtype)
        return xp.sum(tau * rows, axis=0) / xp.sum(rows, axis=0)

    def _ate_core(self, population: str, alpha: float | None = None
                  ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """Plug-in average of the CATE; percentile bootstrap interval (Efron & Tibshirani
        1993, ch. 13) of the same average in each replicate (over its resampled rows)."""
        estimate = self._plugin_ate(population)
        if alpha is None:
            return estimate, None
        draws = np.stack([to_numpy(rep._plugin_ate(population))
                          for rep in self._bootstrap_replicates()])
        lower, upper = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
        return estimate, (to_namespace(lower, estimate), to_namespace(upper, estimate))


def resolve_horizon(horizon: Any, time: np.ndarray, codes: np.ndarray,
                    classes: np.ndarray) -> float:
    """``horizon`` (or the default when ``None``), refused when it lies beyond any arm's last
    observed time, where that arm's survival curve is unknown."""
    fallback = default_horizon(time, codes)
    if horizon is None:
        return fallback
    horizon = check_horizon(horizon, time)
    for code, label in enumerate(classes.tolist()):
        last = float(array_namespace(time).max(time[codes == code]))
        if horizon > last:
            raise ValueError(
                f"horizon={horizon:g} is beyond the last observed time {last:g} in treatment "
                f"arm {label!r}, where that arm's survival curve is unknown; choose a horizon "
                f"<= {fallback:g} (the default: the smallest arm's last observed time)."
            )
    return horizon
