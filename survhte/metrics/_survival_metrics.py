"""Prediction metrics of fitted survival models (``predict_survival(X, times)``): Uno's IPCW
concordance and the (integrated) Brier score, computed by scikit-survival.

These judge the base models of the survival learners (:class:`survhte.CoxPH`,
:class:`survhte.WeibullAFT`, :class:`survhte.SurvivalForest`, ...) on held-out rows; the
CATE losses of :mod:`survhte.metrics._losses` judge the effect estimates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_survival_outcome, check_time
from ..survival import rmst


def _surv(y: Any, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(time, event, structured array)`` of an outcome in any accepted form; the structured
    array has scikit-survival's fields ``("event", "time")``."""
    try:
        time, event = check_survival_outcome(y, require_event=False)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{name}: {error}") from None
    frame = np.empty(time.shape[0], dtype=[("event", bool), ("time", np.float64)])
    frame["event"], frame["time"] = event, time
    return time, event, frame


def _check_model(model: Any) -> None:
    if not callable(getattr(model, "predict_survival", None)):
        raise TypeError(f"model must be a fitted survival model with predict_survival(X, "
                        f"times); got {type(model).__name__}.")


def concordance_index_ipcw(
    model: Any,
    X: Any,
    y_train: Any,
    y_test: Any,
    *,
    tau: float | None = None,
    tied_tol: float = 1e-8,
) -> float:
    r"""Uno's inverse-probability-of-censoring weighted concordance of a survival model.

    The share of comparable pairs, weighted by :math:`1 / \hat G(T_i)^2`, that the model
    orders correctly: a row with an earlier event (before ``tau``) should have the higher
    risk (Uno et al. 2011). Unlike Harrell's C it does not depend on the censoring
    distribution. The risk of a row is minus its restricted mean survival time to ``tau``
    (:func:`survhte.survival.rmst`: the whole predicted curve up to ``tau``, for any model);
    ``G`` is the Kaplan-Meier curve of the censoring times of ``y_train``. Computed by
    ``sksurv.metrics.concordance_index_ipcw`` (scikit-survival).

    Parameters
    ----------
    model : fitted survival model
        With ``predict_survival(X, times)`` (and ``unique_times_`` or ``restricted_mean``).
    X : array-like or DataFrame of shape (n, p)
        Held-out covariates.
    y_train : survival outcome
        The rows the model was fitted on (for the censoring distribution); structured array,
        ``(time, event)`` tuple, ``(n, 2)`` array or DataFrame.
    y_test : survival outcome of the rows of ``X``
    tau : float, optional
        Truncation time: pairs are compared up to ``tau`` and the risk is ``-RMST(tau)``.
        Default: the largest time of ``y_test`` (the censoring curve must stay positive up to
        ``tau``; choose a time with follow-up left when the default fails).
    tied_tol : float, default 1e-8
        Risks closer than this count as tied (half a concordant pair).

    Returns
    -------
    float in [0, 1]
        0.5 for random risks, 1 for a perfect ordering.

    References
    ----------
    Uno, H., Cai, T., Pencina, M. J., D'Agostino, R. B. & Wei, L. J. (2011). On the
    C-statistics for evaluating overall adequacy of risk prediction procedures with censored
    survival data. *Statistics in Medicine*, 30(10), 1105-1117.

    Examples
    --------
    >>> from survhte import CoxPH
    >>> from survhte.metrics import concordance_index_ipcw
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=600, random_state=0)
    >>> model = CoxPH().fit(d.X[:300], d.time[:300], d.event[:300])
    >>> c = concordance_index_ipcw(model, d.X[300:], d.y[:300], d.y[300:], tau=1.0)
    >>> 0.5 < c < 1
    True
    """
    from sksurv.metrics import concordance_index_ipcw as sksurv_cindex

    _check_model(model)
    _, _, train = _surv(y_train, "y_train")
    time, _, test = _surv(y_test, "y_test")
    tau = float(time.max()) if tau is None else float(check_time(np.atleast_1d(tau),
                                                                 name="tau")[0])
    risk = -rmst(model, X, tau)
    if risk.shape[0] != time.shape[0]:
        raise ValueError(f"X has {risk.shape[0]} rows but y_test has {time.shape[0]}.")
    return float(sksurv_cindex(train, test, risk, tau=tau, tied_tol=tied_tol)[0])


def _curves(model: Any, X: Any, times: Any, y_test_time: np.ndarray) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    _check_model(model)
    if times is None:
        times = np.quantile(y_test_time, np.linspace(0.1, 0.9, 50))
    times = np.unique(check_time(np.atleast_1d(times), name="times"))
    curves = np.asarray(model.predict_survival(X, times), dtype=np.float64)
    if curves.shape[0] != y_test_time.shape[0]:
        raise ValueError(f"X has {curves.shape[0]} rows but y_test has "
                         f"{y_test_time.shape[0]}.")
    return times, curves


def brier_score(
    model: Any,
    X: Any,
    y_train: Any,
    y_test: Any,
    times: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""IPCW Brier score of a survival model's predicted curves at each time.

    :math:`BS(t) = \frac1n\sum_i \Big[\frac{\hat S(t \mid x_i)^2 1\{T_i \le t, \delta_i = 1\}}
    {\hat G(T_i)} + \frac{(1 - \hat S(t \mid x_i))^2 1\{T_i > t\}}{\hat G(t)}\Big]` (Graf et
    al. 1999), ``G`` the Kaplan-Meier curve of the censoring times of ``y_train``; computed by
    ``sksurv.metrics.brier_score``. Lower is better.

    Parameters
    ----------
    model, X, y_train, y_test
        As :func:`concordance_index_ipcw`.
    times : array-like, optional
        Times inside the follow-up of ``y_test`` (from its smallest to before its largest
        time). Default: 50 quantiles from the 10th to the 90th percentile of its times.

    Returns
    -------
    times : ndarray of shape (m,)
        Sorted and unique.
    scores : ndarray of shape (m,)

    References
    ----------
    Graf, E., Schmoor, C., Sauerbrei, W. & Schumacher, M. (1999). Assessment and comparison
    of prognostic classification schemes for survival data. *Statistics in Medicine*,
    18(17-18), 2529-2545.

    Examples
    --------
    >>> from survhte import WeibullAFT
    >>> from survhte.metrics import brier_score
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=600, random_state=0)
    >>> model = WeibullAFT().fit(d.X[:300], d.time[:300], d.event[:300])
    >>> times, scores = brier_score(model, d.X[300:], d.y[:300], d.y[300:], [0.5, 1.0])
    """
    from sksurv.metrics import brier_score as sksurv_brier

    _, _, train = _surv(y_train, "y_train")
    time, _, test = _surv(y_test, "y_test")
    times, curves = _curves(model, X, times, time)
    times, scores = sksurv_brier(train, test, curves, times)
    return np.asarray(times, dtype=np.float64), np.asarray(scores, dtype=np.float64)


def integrated_brier_score(
    model: Any,
    X: Any,
    y_train: Any,
    y_test: Any,
    times: Any = None,
) -> float:
    r"""Integrated IPCW Brier score of a survival model over ``times``.

    :math:`\frac{1}{t_{\max} - t_{\min}} \int_{t_{\min}}^{t_{\max}} BS(t)\, dt` by the
    trapezoidal rule over ``times`` (:func:`brier_score`; computed by
    ``sksurv.metrics.integrated_brier_score``). Lower is better; 0.25 is the score of a
    constant prediction of 0.5.

    Parameters
    ----------
    model, X, y_train, y_test, times
        As :func:`brier_score` (at least two times).

    Returns
    -------
    float

    Examples
    --------
    >>> from survhte import CoxPH
    >>> from survhte.metrics import integrated_brier_score
    >>> from survhte.simulate import survhte_bench
    >>> d = survhte_bench("RCT-50", "A", n=600, random_state=0)
    >>> model = CoxPH().fit(d.X[:300], d.time[:300], d.event[:300])
    >>> ibs = integrated_brier_score(model, d.X[300:], d.y[:300], d.y[300:])
    """
    from sksurv.metrics import integrated_brier_score as sksurv_ibs

    _, _, train = _surv(y_train, "y_train")
    time, _, test = _surv(y_test, "y_test")
    times, curves = _curves(model, X, times, time)
    if times.size < 2:
        raise ValueError(f"times must hold at least two distinct times; got {times.size}.")
    return float(sksurv_ibs(train, test, curves, times))
