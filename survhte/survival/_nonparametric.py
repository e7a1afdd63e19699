"""Kaplan-Meier and Nelson-Aalen estimators (scikit-learn style wrappers of the kernels)."""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import array_namespace, device
from scipy.special import ndtri
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .. import _kernels as kernels
from .._validation import check_horizon, check_time_event
from ._checks import check_alpha, check_query_times


def _at(timeline: Any, values: Any, times: Any, initial: float) -> Any:
    """Step-function values at validated query times, in the shape of ``times`` and the
    namespace of the fitted curve."""
    flat, shape = check_query_times(times, like=timeline)
    out = kernels.step_values(timeline, values, flat, initial)
    return float(out[0]) if shape == () else array_namespace(out).reshape(out, shape)


class KaplanMeier(BaseEstimator):
    r"""Kaplan-Meier estimator of the survival function ``S(t) = P(T > t)``.

    With unique observed times :math:`t_1 < \dots < t_m` (event and censoring times together),
    :math:`n_j` at risk (time :math:`\ge t_j`) and :math:`d_j` events at :math:`t_j`,

    .. math::

        \hat S(t) = \prod_{t_j \le t} \left(1 - \frac{d_j}{n_j}\right), \qquad
        \widehat{\mathrm{Var}}\,\hat S(t) = \hat S(t)^2 \sum_{t_j \le t}
        \frac{d_j}{n_j (n_j - d_j)}

    (Kaplan & Meier 1958; Greenwood 1926). Rows tied at a time share one risk set, events
    before censorings. With ``sample_weight``, :math:`n_j` and :math:`d_j` are weighted sums:
    the estimate is the weighted Kaplan-Meier curve (as used with inverse-probability weights);
    the Greenwood variance is the plug-in analogue, exact for frequency weights (weight 2 equals
    a duplicated row) but not a valid variance for estimated weights.

    Computed in O(n log n) by the array-API kernels of :mod:`survhte._kernels`; results agree
    with lifelines' ``KaplanMeierFitter`` on the shared timeline.

    Array-API inputs keep their namespace: fitted on arrays of a non-NumPy array-API library
    (CuPy on a GPU, ``array_api_strict``, ...), the validation, the computation and every
    fitted attribute stay in that namespace and on that device, and :meth:`predict` and
    :meth:`confidence_interval` return arrays of it (:meth:`rmst` returns Python floats).

    Attributes
    ----------
    timeline_ : ndarray of shape (m,)
        Sorted unique observed times. Unlike lifelines, time 0 is not prepended when no row has
        time 0 (the curve is 1 there by definition; :meth:`predict` returns it).
    n_at_risk_ : ndarray of shape (m,)
        :math:`n_j`, weighted when ``sample_weight`` was given.
    n_events_ : ndarray of shape (m,)
        :math:`d_j`.
    n_censored_ : ndarray of shape (m,)
        Censored rows (weight) at :math:`t_j`.
    survival_ : ndarray of shape (m,)
        :math:`\hat S(t_j)`.
    survival_variance_ : ndarray of shape (m,)
        Greenwood variance of :math:`\hat S(t_j)`.

    References
    ----------
    Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations.
    JASA 53, 457-481.
    Greenwood, M. (1926). The natural duration of cancer. Reports on Public Health and Medical
    Subjects 33, HMSO.
    Kalbfleisch, J. D. & Prentice, R. L. (1980). The Statistical Analysis of Failure Time
    Data. Wiley.
    Klein, J. P. & Moeschberger, M. L. (2003). Survival Analysis: Techniques for Censored and
    Truncated Data, 2nd ed. Springer.
    Royston, P. & Parmar, M. K. B. (2013). Restricted mean survival time: an alternative to the
    hazard ratio for the design and analysis of randomized trials with a time-to-event
    outcome. BMC Medical Research Methodology 13, 152.

    Examples
    --------
    >>> from survhte.survival import KaplanMeier
    >>> km = KaplanMeier().fit([1.0, 2.0, 2.0, 3.0], [1, 1, 0, 0])
    >>> km.survival_.round(12).tolist()
    [0.75, 0.5, 0.5]
    >>> km.rmst(3.0)
    2.25
    """

    def fit(self, time: Any, event: Any, sample_weight: Any = None) -> KaplanMeier:
        """Fit the curve to right-censored data.

        Parameters
        ----------
        time : array-like of shape (n,)
            Observed times ``min(T, C)``: finite, ``>= 0``. An array of a non-NumPy
            array-API library (CuPy, ...) keeps its namespace and device: the other two
            arguments are moved there and the fitted attributes are arrays of it.
        event : array-like of shape (n,)
            1/``True`` for an observed event, 0/``False`` for a censored row; at least one event.
        sample_weight : array-like of shape (n,), optional
            Non-negative case weights with a positive sum on the event rows.

        Returns
        -------
        self
        """
        time, event, weight = check_time_event(time, event, sample_weight, keep_namespace=True)
        table = kernels.risk_table(time, event, weight)
        terms = kernels.greenwood_terms(table)
        self.timeline_ = table.timeline
        self.n_at_risk_ = table.n_at_risk
        self.n_events_ = table.n_events
        self.n_censored_ = table.n_censored
        self.survival_ = kernels.survival_curve(table)
        self.survival_variance_ = kernels.greenwood_variance(self.survival_, terms)
        self._greenwood_terms = terms
        return self

    def predict(self, times: Any) -> np.ndarray | float:
        """Survival probability ``S(t)`` at each of ``times``.

        The estimate is a right-continuous step function: 1 before the first observed time,
        and the last value past the last observed time.

        Parameters
        ----------
        times : float or array-like
            Finite, non-negative query times.

        Returns
        -------
        float or ndarray
            Same shape as ``times``.
        """
        check_is_fitted(self, "survival_")
        return _at(self.timeline_, self.survival_, times, 1.0)

    def rmst(self, horizon: float, return_variance: bool = False) -> float | tuple[float, float]:
        r"""Restricted mean survival time ``RMST(h) = integral_0^h S(t) dt``.

        The exact area under the step curve (Royston & Parmar 2013). Its variance is the
        Greenwood-type estimate

        .. math::

            \widehat{\mathrm{Var}} = \sum_{t_j \le h} A_j^2 \frac{d_j}{n_j (n_j - d_j)},
            \qquad A_j = \int_{t_j}^{h} \hat S(t)\,dt,

        the variance of the estimator as in survRM2 (Klein & Moeschberger 2003, Sec. 4.5).
        lifelines' ``restricted_mean_survival_time(..., return_variance=True)`` returns a
        different quantity, ``E[min(T, h)^2] - RMST^2``: the variance of ``min(T, h)`` itself,
        not of its estimated mean.

        Parameters
        ----------
        horizon : float
            ``h``, in ``(0, timeline_[-1]]``.
        return_variance : bool, default False
            Also return the variance.

        Returns
        -------
        rmst : float
        variance : float
            Only when ``return_variance`` is true.
        """
        check_is_fitted(self, "survival_")
        horizon = check_horizon(horizon, self.timeline_)
        xp = array_namespace(self.timeline_)
        horizons = xp.asarray([horizon], dtype=self.timeline_.dtype,
                              device=device(self.timeline_))
        area = float(kernels.restricted_mean(self.timeline_, self.survival_, horizons)[0])
        if not return_variance:
            return area
        variance = kernels.restricted_mean_variance(
            self.timeline_, self.survival_, self._greenwood_terms, horizon
        )
        return area, float(variance)

    def confidence_interval(self, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        r"""Pointwise ``1 - alpha`` band for ``S(t_j)`` from the log-log transform.

        ``(lower, upper) = S^{exp(-+z sigma / log S)}`` with the Greenwood sum
        ``sigma^2 = sum_{t_k <= t_j} d_k / (n_k (n_k - d_k))`` and ``z = Phi^{-1}(1 - alpha/2)``
        (Kalbfleisch & Prentice 1980): lifelines' default ``confidence_interval_``. The band
        stays in [0, 1] and collapses onto ``S`` where ``S`` is 0 or 1.

        Parameters
        ----------
        alpha : float, default 0.05

        Returns
        -------
        lower, upper : ndarray of shape (m,)
            On ``timeline_``.
        """
        check_is_fitted(self, "survival_")
        z = float(ndtri(1.0 - check_alpha(alpha) / 2.0))
        return kernels.loglog_interval(self.survival_, self._greenwood_terms, z)


class NelsonAalen(BaseEstimator):
    r"""Nelson-Aalen estimator of the cumulative hazard ``H(t)``.

    .. math::

        \hat H(t) = \sum_{t_j \le t} \frac{d_j}{n_j}, \qquad
        \widehat{\mathrm{Var}}\,\hat H(t) = \sum_{t_j \le t} \frac{(n_j - d_j)\, d_j}{n_j^3}

    (Nelson 1972; Aalen 1978). The variance is the binomial-type form used by lifelines'
    ``NelsonAalenFitter(nelson_aalen_smoothing=False)``, which this estimator matches. lifelines'
    default (``nelson_aalen_smoothing=True``) instead spreads tied events,
    ``sum_{k=0}^{d_j - 1} 1 / (n_j - k)``, and so differs at tied event times. Weighted totals
    are used with ``sample_weight``.

    Array-API inputs keep their namespace, as for :class:`KaplanMeier`: fitted on arrays of a
    non-NumPy array-API library (CuPy, ``array_api_strict``, ...), the fitted attributes and
    :meth:`predict` are arrays of that namespace, on that device.

    Attributes
    ----------
    timeline_ : ndarray of shape (m,)
        Sorted unique observed times.
    cumulative_hazard_ : ndarray of shape (m,)
    cumulative_hazard_variance_ : ndarray of shape (m,)

    References
    ----------
    Nelson, W. (1972). Theory and applications of hazard plotting for censored failure data.
    Technometrics 14, 945-966.
    Aalen, O. (1978). Nonparametric inference for a family of counting processes. Annals of
    Statistics 6, 701-726.

    Examples
    --------
    >>> from survhte.survival import NelsonAalen
    >>> na = NelsonAalen().fit([1.0, 2.0, 2.0, 3.0], [1, 1, 0, 0])
    >>> na.timeline_.tolist(), na.cumulative_hazard_.round(6).tolist()
    ([1.0, 2.0, 3.0], [0.25, 0.583333, 0.583333])
    """

    def fit(self, time: Any, event: Any, sample_weight: Any = None) -> NelsonAalen:
        """Fit the cumulative hazard to right-censored data.

        Parameters
        ----------
        time : array-like of shape (n,)
            Observed times: finite, ``>= 0``.
        event : array-like of shape (n,)
            1/``True`` for an observed event; at least one event.
        sample_weight : array-like of shape (n,), optional
            Non-negative case weights.

        Returns
        -------
        self
        """
        time, event, weight = check_time_event(time, event, sample_weight, keep_namespace=True)
        table = kernels.risk_table(time, event, weight)
        self.timeline_ = table.timeline
        self.cumulative_hazard_ = kernels.cumulative_hazard(table)
        self.cumulative_hazard_variance_ = kernels.cumulative_hazard_variance(table)
        return self

    def predict(self, times: Any) -> np.ndarray | float:
        """Cumulative hazard ``H(t)`` at each of ``times`` (0 before the first observed time).

        Parameters
        ----------
        times : float or array-like
            Finite, non-negative query times.

        Returns
        -------
        float or ndarray
            Same shape as ``times``.
        """
        check_is_fitted(self, "cumulative_hazard_")
        return _at(self.timeline_, self.cumulative_hazard_, times, 0.0)
