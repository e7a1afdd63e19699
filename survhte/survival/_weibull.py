"""Weibull accelerated failure time model by penalised maximum likelihood (NumPy/SciPy)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.optimize import minimize
from scipy.special import gamma, gammainc
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._params import Interval, validate_params
from .._validation import check_covariates, check_time
from ._models import check_model_data


def _negative_loglik(
    theta: np.ndarray, design: np.ndarray, log_time: np.ndarray, event: np.ndarray,
    weight: np.ndarray, penalty: np.ndarray,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean negative log-likelihood + ridge penalty, its gradient and Hessian.

    With ``eta = design @ beta``, ``rho = exp(a)`` and ``z = rho (log t - eta)``, a row
    contributes ``d (a - log t + z) - exp(z)`` to the log-likelihood.
    """
    beta, log_shape = theta[:-1], theta[-1]
    rho = np.exp(log_shape)
    z = rho * (log_time - design @ beta)
    ez = np.exp(z)
    total = weight.sum()
    loglik = weight @ (event * (log_shape - log_time + z) - ez)
    d_eta = rho * (ez - event)
    d_a = event + z * (event - ez)
    gradient = np.append(design.T @ (weight * d_eta), weight @ d_a)
    h_eta = -(rho**2) * ez
    h_cross = rho * (ez - event) + rho * ez * z
    h_a = z * (event - ez) - z**2 * ez
    hessian = np.empty((theta.size, theta.size))
    hessian[:-1, :-1] = (design * (weight * h_eta)[:, None]).T @ design
    hessian[:-1, -1] = hessian[-1, :-1] = design.T @ (weight * h_cross)
    hessian[-1, -1] = weight @ h_a
    return (
        -loglik / total + 0.5 * penalty @ theta**2,
        -gradient / total + penalty * theta,
        -hessian / total + np.diag(penalty),
    )


class WeibullAFT(BaseEstimator):
    """Weibull accelerated failure time model.

    ``S(t | x) = exp(-(t / lambda(x))^rho)`` with scale ``lambda(x) = exp(intercept_ + x @ coef_)``
    and a common shape ``rho = shape_``: covariates multiply the time scale by
    ``exp(x @ coef_)`` (equivalently, a proportional hazards model with hazard ratio
    ``exp(-rho x @ coef_)``). Fitted by maximum likelihood (SciPy trust-region Newton with the
    exact gradient and Hessian). The restricted mean is exact:
    ``integral_0^h S = lambda Gamma(1 + 1/rho) P(1/rho, (h/lambda)^rho)``, ``P`` the regularised
    lower incomplete gamma function.

    Parametrisation as lifelines' ``WeibullAFTFitter`` (``lambda_``, ``rho_``); with
    ``penalizer=0`` the fits agree (tested to 1e-5). The penalty here is
    ``penalizer / 2 * ||b||^2`` on the coefficients ``b`` of the covariates scaled by their
    standard deviation (``ddof=1``), added to the mean negative log-likelihood; unlike lifelines,
    neither the intercept nor the log-shape is penalised.

    Parameters
    ----------
    penalizer : float, default 0.01
        Ridge penalty on the scaled covariate coefficients (see above).

    Attributes
    ----------
    coef_ : ndarray of shape (p,)
        Log time-ratios per unit of each covariate (0 for a constant covariate).
    intercept_ : float
    shape_ : float
        Weibull shape ``rho``.
    n_features_in_ : int

    References
    ----------
    Kalbfleisch, J. D. & Prentice, R. L. (2002). *The Statistical Analysis of Failure Time Data*,
    2nd ed., ch. 2-3. Wiley.

    Examples
    --------
    >>> from survhte.datasets import load_rossi
    >>> from survhte.survival import WeibullAFT
    >>> data = load_rossi()
    >>> model = WeibullAFT().fit(data.X, data.time, data.event)
    >>> model.predict_survival(data.X[:2], [10.0, 52.0]).shape
    (2, 2)
    >>> bool((model.restricted_mean(data.X[:2], horizon=52.0) <= 52.0).all())
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "penalizer": [Interval(float, 0, None, closed="left")]}

    def __init__(self, penalizer: float = 0.01) -> None:
        self.penalizer = penalizer

    def fit(self, X: Any, time: Any, event: Any, sample_weight: Any = None) -> WeibullAFT:
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n, p)
        time : array-like of shape (n,)
            Observed times, all positive (the Weibull density is defined for ``t > 0``).
        event : array-like of shape (n,)
        sample_weight : array-like of shape (n,), optional

        Returns
        -------
        self
        """
        validate_params(self)
        X, time, event, weight = check_model_data(X, time, event, sample_weight)
        if np.any(time <= 0):
            raise ValueError("time must be positive for WeibullAFT; found zero time(s).")
        weight = np.ones_like(time) if weight is None else weight
        varying = np.ptp(X, axis=0) > 0
        scale = X[:, varying].std(axis=0, ddof=1)
        design = np.column_stack([np.ones(time.size), X[:, varying] / scale])
        log_time = np.log(time)
        penalty = np.r_[0.0, np.full(scale.size, float(self.penalizer)), 0.0]
        start = np.zeros(design.shape[1] + 1)
        start[0] = np.average(log_time, weights=weight)
        result = minimize(
            lambda theta: _negative_loglik(
                theta, design, log_time, event.astype(np.float64), weight, penalty
            )[:2],
            start, jac=True, method="trust-exact",
            hess=lambda theta: _negative_loglik(
                theta, design, log_time, event.astype(np.float64), weight, penalty
            )[2],
            options={"gtol": 1e-10},
        )
        theta = result.x
        self.intercept_ = float(theta[0])
        self.coef_ = np.zeros(X.shape[1])
        self.coef_[varying] = theta[1:-1] / scale
        self.shape_ = float(np.exp(theta[-1]))
        self.n_features_in_ = X.shape[1]
        return self

    def _scale(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X, _ = check_covariates(X, n_features=self.n_features_in_)
        return np.exp(self.intercept_ + X @ self.coef_)

    def predict_survival(self, X: Any, times: Any) -> np.ndarray:
        """Survival probabilities ``S(t | x)`` at ``times``, shape (n, m)."""
        scale = self._scale(X)
        times = check_time(np.atleast_1d(times), name="times")
        return np.exp(-((times[None, :] / scale[:, None]) ** self.shape_))

    def restricted_mean(self, X: Any, horizon: float) -> np.ndarray:
        """Exact restricted mean ``integral_0^horizon S(t | x) dt`` of each row, shape (n,)."""
        scale = self._scale(X)
        a = 1.0 / self.shape_
        return scale * gamma(1.0 + a) * gammainc(a, (horizon / scale) ** self.shape_)
