"""Adapter: any lifelines regression fitter as a base survival model."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._validation import check_covariates, check_time
from ._models import check_model_data

_TIME, _EVENT, _WEIGHT = "__survhte_time", "__survhte_event", "__survhte_weight"

#: Gauss-Legendre nodes for the restricted mean of continuous (parametric) curves, integrated
#: in ``u = sqrt(t / h)`` so that curves with an infinite slope at 0 (Weibull shape < 1) become
#: smooth integrands.
_N_NODES = 64


class LifelinesSurvivalModel(BaseEstimator):
    """Any lifelines regression fitter (``CoxPHFitter``, ``WeibullAFTFitter``,
    ``LogNormalAFTFitter``, ``LogLogisticAFTFitter``, ...) behind the base-model interface.

    Semi-parametric fitters (with a ``baseline_cumulative_hazard_``) give step curves whose jump
    times become ``unique_times_``, evaluated as steps (lifelines itself interpolates between
    its baseline times) and integrated exactly by the learners. Parametric fitters give
    continuous curves; their restricted mean is computed by 64-point Gauss-Legendre quadrature in
    ``u = sqrt(t / h)`` (``integral_0^h S(t) dt = integral_0^1 2 h u S(h u^2) du``).

    Parameters
    ----------
    fitter : lifelines regression fitter
        Unfitted instance; deep-copied for every fit.

    Attributes
    ----------
    fitter_ : the fitted lifelines model
    unique_times_ : ndarray
        Jump times of the predicted curves (semi-parametric fitters only).
    n_features_in_ : int

    Examples
    --------
    >>> from lifelines import LogNormalAFTFitter
    >>> from survhte.datasets import load_rossi
    >>> from survhte.survival import LifelinesSurvivalModel
    >>> data = load_rossi()
    >>> model = LifelinesSurvivalModel(LogNormalAFTFitter()).fit(data.X, data.time, data.event)
    >>> model.restricted_mean(data.X[:2], 52.0).shape
    (2,)
    """

    def __init__(self, fitter: Any) -> None:
        self.fitter = fitter

    def fit(self, X: Any, time: Any, event: Any, sample_weight: Any = None
            ) -> LifelinesSurvivalModel:
        """Fit the lifelines model on ``X`` (columns ``x0..x{p-1}``), ``time`` and ``event``."""
        if not type(self.fitter).__module__.startswith("lifelines") \
                or not hasattr(self.fitter, "fit"):
            raise TypeError(
                "fitter must be a lifelines regression fitter (CoxPHFitter, WeibullAFTFitter, "
                "...); "
                f"got {type(self.fitter).__name__}."
            )
        X, time, event, weight = check_model_data(X, time, event, sample_weight)
        frame = self._frame(X).assign(**{_TIME: time, _EVENT: event.astype(np.int64)})
        options = {}
        if weight is not None:
            frame[_WEIGHT] = weight
            options = {"weights_col": _WEIGHT, "robust": True}
        self.fitter_ = copy.deepcopy(self.fitter).fit(
            frame, duration_col=_TIME, event_col=_EVENT, **options
        )
        if hasattr(self.fitter_, "baseline_cumulative_hazard_"):
            baseline = self.fitter_.baseline_cumulative_hazard_.iloc[:, 0]
            jumps = np.diff(baseline.to_numpy(), prepend=0.0) > 0
            self.unique_times_ = baseline.index.to_numpy(dtype=np.float64)[jumps]
        self.n_features_in_ = X.shape[1]
        return self

    @staticmethod
    def _frame(X: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])

    def predict_survival(self, X: Any, times: Any) -> np.ndarray:
        """``S(t | x)`` at ``times`` from the lifelines model, shape (n, len(times))."""
        check_is_fitted(self)
        X, _ = check_covariates(X, n_features=self.n_features_in_)
        times = check_time(np.atleast_1d(times), name="times")
        if not hasattr(self, "unique_times_"):
            return self.fitter_.predict_survival_function(self._frame(X), times=times).to_numpy().T
        # step curves: lifelines interpolates linearly between its baseline times when given
        # ``times``, so read the curves at those times and evaluate the steps here
        curves = self.fitter_.predict_survival_function(self._frame(X))
        position = np.searchsorted(curves.index.to_numpy(dtype=np.float64), times, side="right")
        values = np.column_stack([np.ones(X.shape[0]), curves.to_numpy().T])
        return values[:, position]

    def restricted_mean(self, X: Any, horizon: float) -> np.ndarray:
        """``integral_0^horizon S(t | x) dt`` of continuous curves by quadrature, shape (n,).

        Used for parametric fitters; step curves (``unique_times_``) are summed exactly by the
        learners instead.
        """
        nodes, weights = np.polynomial.legendre.leggauss(_N_NODES)
        u = (nodes + 1.0) / 2.0
        values = self.predict_survival(X, horizon * u**2)
        return values @ (weights * u * horizon)  # (1/2 from the map) * (2 h u)

