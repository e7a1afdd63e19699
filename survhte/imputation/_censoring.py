"""The censoring survival function ``G(t) = P(C > t)`` and left limits of step curves.

Ties. An event and a censoring at the same time ``t``: the event is taken to happen first, as
in the Kaplan-Meier estimate of ``S`` (Kaplan & Meier 1958). So a row with its event at ``t``
was not at risk of censoring at ``t``: the risk set of the censoring hazard at ``t_j`` is
``n_j - d_j``, and an event row at ``t`` is weighted by the left limit ``G(t-)``. With this
convention ``S_KM(t-) G_KM(t-) = n_j / n`` exactly, so inverse-probability-of-censoring
weighted means reproduce Kaplan-Meier functionals (Satten & Datta 2001). lifelines' reverse
Kaplan-Meier (fit on ``1 - event``) instead keeps tied event rows in the censoring risk set;
the two differ only at tied times.

References
----------
Satten, G. A. & Datta, S. (2001). The Kaplan-Meier estimator as an inverse-probability-of-
censoring weighted average. *The American Statistician*, 55(3), 207-210.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from array_api_compat import array_namespace, device
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from .. import _kernels as kernels
from .._kernels import RiskTable
from .._validation import check_time, check_time_event, foreign_namespace, to_namespace
from ..survival import CoxPH, SurvivalModel


def censoring_curve(table: RiskTable) -> np.ndarray:
    """``G(t_j) = prod_{k <= j} (1 - c_k / (n_k - d_k))`` on ``table.timeline`` (events first).

    Parameters
    ----------
    table : RiskTable
        Risk table of the event process (``n_events`` = events, ``n_censored`` = censorings).

    Returns
    -------
    ndarray of shape (m,)
    """
    xp = array_namespace(table.n_at_risk)
    next_at_risk = xp.concat((table.n_at_risk[1:], xp.zeros_like(table.n_at_risk[:1])))
    reversed_table = RiskTable(
        timeline=table.timeline,
        n_at_risk=table.n_survivors,
        n_events=table.n_censored,
        n_censored=table.n_events,
        n_survivors=next_at_risk,
    )
    return kernels.survival_curve(reversed_table)


def left_limit(timeline: np.ndarray, values: np.ndarray, times: np.ndarray,
               initial: float) -> np.ndarray:
    """Left limit ``F(t-)`` of a right-continuous step function jumping on ``timeline``.

    It is the value at the largest float below ``t``: every jump strictly before ``t`` is at
    or before ``nextafter(t, -inf)``, and a jump at ``t`` itself is not.
    """
    xp = array_namespace(times)
    below = xp.nextafter(times, xp.full_like(times, -xp.inf))
    return kernels.step_values(timeline, values, below, initial)


class CensoringKaplanMeier(BaseEstimator):
    """Kaplan-Meier estimate of the censoring survival ``G(t) = P(C > t)``, events first at ties.

    A base model in the sense of :mod:`survhte.survival_model_learners` (``predict_survival``,
    ``unique_times_``) whose curve ignores the covariates. Unlike a model fitted on
    ``1 - event``, :meth:`fit` takes the *event* indicator of the outcome, so that tied event
    rows leave the censoring risk set first (see the module notes).

    Array-API inputs keep their namespace: fitted on ``time``/``event`` arrays of a non-NumPy
    array-API library (CuPy, ``array_api_strict``, ...), the curve and the predictions are
    arrays of that namespace, on that device.

    Attributes
    ----------
    timeline_ : ndarray
        Sorted unique observed times.
    survival_ : ndarray
        ``G`` on ``timeline_``.
    unique_times_ : ndarray
        Censoring times: where ``G`` may jump.

    Examples
    --------
    >>> import numpy as np
    >>> from survhte.imputation import CensoringKaplanMeier
    >>> X = np.zeros((4, 1))
    >>> G = CensoringKaplanMeier().fit(X, [1.0, 2.0, 2.0, 3.0], [1, 1, 0, 0])
    >>> G.timeline_.tolist(), G.survival_.round(6).tolist()
    ([1.0, 2.0, 3.0], [1.0, 0.5, 0.0])
    >>> G.predict_survival(X[:1], [1.5, 2.5]).round(6).tolist()
    [[1.0, 0.5]]
    """

    #: Fits and predicts in the namespace of array-API inputs (:mod:`survhte._validation`).
    _keeps_namespace: ClassVar[bool] = True

    def fit(self, X: Any, time: Any, event: Any) -> CensoringKaplanMeier:
        """Fit ``G`` from observed times and the outcome's event indicators (``X`` unused)."""
        time, event, _ = check_time_event(time, event, keep_namespace=True)
        table = kernels.risk_table(time, event)
        self.timeline_ = table.timeline
        self.survival_ = censoring_curve(table)
        self.unique_times_ = table.timeline[table.n_censored > 0]
        return self

    def predict(self, times: Any, *, left: bool = False) -> np.ndarray:
        """``G(t)`` (or ``G(t-)`` with ``left=True``) at each of ``times``, shape of ``times``."""
        check_is_fitted(self)
        if foreign_namespace(times) is None:
            times = np.atleast_1d(times)
        elif times.ndim == 0:
            times = array_namespace(times).reshape(times, (1,))
        times = to_namespace(check_time(times, name="times", keep_namespace=True),
                             self.timeline_)
        if left:
            return left_limit(self.timeline_, self.survival_, times, 1.0)
        return kernels.step_values(self.timeline_, self.survival_, times, 1.0)

    def predict_survival(self, X: Any, times: Any) -> np.ndarray:
        """``G(t)`` at ``times`` for each row of ``X`` (the same curve), shape (n, len(times))."""
        curve = self.predict(times)
        xp = array_namespace(curve)
        n_rows = X.shape[0] if hasattr(X, "shape") else np.shape(X)[0]
        # A C-ordered (rows, times) array, as np.tile gives: the same BLAS path downstream.
        ones = xp.ones((n_rows, 1), dtype=curve.dtype, device=device(curve))
        return ones * xp.expand_dims(curve, axis=0)


def fit_censoring_model(model: Any, X: np.ndarray | None, time: np.ndarray,
                        event: np.ndarray) -> Any:
    """Fit a model of ``G(t | x)``: ``"km"``, ``"cox"`` or a base survival model.

    ``"km"`` is :class:`CensoringKaplanMeier`; ``"cox"`` is
    :class:`~survhte.survival.CoxPH` on ``X`` with event indicator
    ``1 - event``; a :class:`CensoringKaplanMeier` instance is fitted like ``"km"``; any other
    base model (``fit(X, time, event)``, ``predict_survival``,
    ``unique_times_``) is cloned and fitted on ``1 - event``.
    """
    if isinstance(model, str) and model == "km":
        return CensoringKaplanMeier().fit(X, time, event)
    if isinstance(model, CensoringKaplanMeier):  # takes the outcome's event indicator
        return clone(model).fit(X, time, event)
    if not bool(array_namespace(event).any(~event)):
        return CensoringKaplanMeier().fit(X, time, event)  # no censoring: G = 1
    if isinstance(model, str) and model == "cox":
        return CoxPH().fit(X, time, ~event)
    if isinstance(model, str) or not isinstance(model, SurvivalModel):
        raise ValueError(
            "censoring model must be 'km', 'cox' or a survival model with fit(X, time, event) "
            f"and predict_survival(X, times); got {model!r}."
        )
    return clone(model).fit(X, time, ~event)
