"""Base survival models used by the survival meta-learners.

A base model is a scikit-learn estimator with

- ``fit(X, time, event) -> self``,
- ``predict_survival(X, times) -> ndarray (n, len(times))``: right-continuous step curves
  ``S(t | x)``,
- ``unique_times_``: after ``fit``, the sorted times at which the predicted curves may jump.

The learners integrate each curve exactly as a step function over ``unique_times_``, so a model
whose curves are step functions with those jump points gets exact RMSTs, with no time grid.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._kernels.step_function import step_values
from .._validation import check_covariates, check_time, check_time_event


@runtime_checkable
class SurvivalModel(Protocol):
    """What a survival meta-learner needs from its base model."""

    def fit(self, X: np.ndarray, time: np.ndarray, event: np.ndarray) -> SurvivalModel: ...

    def predict_survival(self, X: np.ndarray, times: np.ndarray) -> np.ndarray: ...


_TIME, _EVENT = "__survhte_time", "__survhte_event"


class CoxPH(BaseEstimator):
    """Cox proportional hazards model with a Breslow baseline, fitted by lifelines.

    ``S(t | x) = exp(-H0(t) exp((x - mean) @ coef_))``, with ``H0`` the Breslow cumulative
    baseline hazard (Efron's handling of ties), a step function jumping at event times.

    Parameters
    ----------
    penalizer : float, default 0.01
        Ridge penalty, in lifelines' form ``n * penalizer / 2 * ||beta||^2`` on the coefficients
        of the standardised covariates (lifelines standardises internally, so the penalty does
        not depend on the covariates' units). The small default keeps Newton-Raphson finite when
        a covariate separates events from non-events, which happens in small treatment arms and
        bootstrap resamples. Because the penalty grows with ``n`` like the log partial
        likelihood, it shrinks each standardised coefficient by roughly
        ``penalizer / (fraction of rows with an event)``: a few percent at the default. Set 0
        for the unpenalised partial-likelihood estimate.

    Attributes
    ----------
    coef_ : ndarray of shape (p,)
        Log hazard ratios per unit of each covariate (0 for a covariate constant in the data).
    mean_ : ndarray of shape (p,)
        Covariate means used to centre the linear predictor.
    unique_times_ : ndarray
        The event times at which ``H0`` rises: the predicted survival curves can only jump at
        these times.
    baseline_cumulative_hazard_ : ndarray
        ``H0`` at ``unique_times_`` (lifelines' Breslow estimate).
    lifelines_model_ : lifelines.CoxPHFitter
        The fitted lifelines model (``print_summary()`` for a coefficient table), fitted on the
        non-constant covariates only.

    References
    ----------
    Cox, D. R. (1972). Regression models and life-tables. *JRSS-B*, 34(2), 187-220.
    Breslow, N. E. (1972). Discussion of Cox (1972). *JRSS-B*, 34(2), 216-217.
    """

    def __init__(self, penalizer: float = 0.01) -> None:
        self.penalizer = penalizer

    def fit(self, X: Any, time: Any, event: Any) -> CoxPH:
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n, p)
        time : array-like of shape (n,)
            Observed times.
        event : array-like of shape (n,)
            Event indicators (1/True = event observed).

        Returns
        -------
        self
        """
        X, _ = check_covariates(X)
        time, event, _ = check_time_event(time, event)
        if time.shape[0] != X.shape[0]:
            raise ValueError(f"time has {time.shape[0]} rows but X has {X.shape[0]}.")
        varying = np.ptp(X, axis=0) > 0
        if not varying.any():
            raise ValueError("CoxPH needs at least one covariate that varies; all are constant.")
        columns = [f"x{j}" for j in np.flatnonzero(varying)]
        frame = pd.DataFrame(X[:, varying], columns=columns)
        frame[_TIME] = time
        frame[_EVENT] = event.astype(np.int64)
        model = CoxPHFitter(penalizer=self.penalizer).fit(
            frame, duration_col=_TIME, event_col=_EVENT
        )
        self.coef_ = np.zeros(X.shape[1])
        self.coef_[varying] = model.params_.to_numpy()
        self.mean_ = X.mean(axis=0)  # lifelines centres the baseline hazard at these means
        baseline = model.baseline_cumulative_hazard_.iloc[:, 0]
        jumps = np.diff(baseline.to_numpy(), prepend=0.0) > 0  # H0 only rises at event times
        self.unique_times_ = baseline.index.to_numpy(dtype=np.float64)[jumps]
        self.baseline_cumulative_hazard_ = baseline.to_numpy()[jumps]
        self.lifelines_model_ = model
        return self

    def predict_survival(self, X: Any, times: Any) -> np.ndarray:
        """Survival probabilities ``S(t | x)`` at ``times``.

        Parameters
        ----------
        X : array-like of shape (n, p)
        times : array-like of shape (m,)
            Non-negative times, in any order.

        Returns
        -------
        ndarray of shape (n, m)
        """
        check_is_fitted(self)
        X, _ = check_covariates(X, n_features=self.coef_.shape[0])
        times = check_time(np.atleast_1d(times), name="times")
        cumhaz = step_values(self.unique_times_, self.baseline_cumulative_hazard_, times, 0.0)
        risk = np.exp((X - self.mean_) @ self.coef_)
        return np.exp(-np.outer(risk, cumhaz))
