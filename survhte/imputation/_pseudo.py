"""Jackknife pseudo-observations of the Kaplan-Meier RMST or survival probability."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .. import _kernels as kernels
from .._validation import check_survival_outcome
from ._base import resolve_horizon


class PseudoObservations(BaseEstimator):
    r"""Pseudo-observations (Andersen & Perme 2010) of a Kaplan-Meier functional.

    With :math:`\hat\theta` the Kaplan-Meier restricted mean up to ``h``
    (``target="rmst"``) or survival probability :math:`\hat S(h)` (``target="survival"``) of
    the ``n`` training rows, the pseudo-observation of training row ``i`` is the jackknife

    .. math::

        \hat\theta_i = n\,\hat\theta - (n - 1)\,\hat\theta_{(-i)},

    whose conditional mean given covariates is (asymptotically, under censoring independent
    of the covariates) :math:`E[\min(T, h) \mid X]` or :math:`P(T > h \mid X)`: a valid
    outcome for any regressor. Computed exactly in O(n log n) (one sort and prefix/suffix
    sums; :mod:`survhte._kernels.pseudo_observations`), equal to the n-refit jackknife.

    New rows. :meth:`transform` keeps the training statistics fixed and gives a row
    ``(y, delta)`` the pseudo-value of *adding* it to the training sample,

    .. math::

        \hat\theta_i^{+} = (n + 1)\,\hat\theta_{(+i)} - n\,\hat\theta,

    as SurvivalEVAL does for test rows: no row influences another's value. Like scikit-learn's
    ``TargetEncoder``, ``fit(y).transform(y)`` therefore differs from ``fit_transform(y)``
    (leave-one-out, the training rows' own pseudo-values): both are
    :math:`\hat\theta + \mathrm{IF}_i + O_p(1/n)`, and they differ by O(1/n) per row.

    Parameters
    ----------
    target : {"rmst", "survival"}, default "rmst"
    horizon : float, default None
        ``h``, at most the last training time. ``None`` (``"rmst"`` only): the last training
        time.

    Attributes
    ----------
    theta_ : float
        :math:`\hat\theta` of the training rows.
    horizon_ : float
    n_train_ : int

    References
    ----------
    Andersen, P. K. & Perme, M. P. (2010). Pseudo-observations in survival analysis.
    *Statistical Methods in Medical Research*, 19(1), 71-99.
    Andersen, P. K., Hansen, M. G. & Klein, J. P. (2004). Regression analysis of restricted
    mean survival time based on pseudo-observations. *Lifetime Data Analysis*, 10, 335-350.

    Examples
    --------
    >>> po = PseudoObservations(horizon=3.0)
    >>> po.fit_transform(([1.0, 2.0, 3.0, 4.0], [1, 0, 1, 1])).round(6).tolist()
    [1.0, 3.0, 3.0, 3.0]
    """

    def __init__(self, target: str = "rmst", horizon: float | None = None) -> None:
        self.target = target
        self.horizon = horizon

    def fit(self, y: Any) -> PseudoObservations:
        """Store the training outcomes (at least two rows, one event) and their ``theta``."""
        time, event = check_survival_outcome(y, require_event=True)
        if time.shape[0] < 2:
            raise ValueError("y has a single row: pseudo-observations need at least two.")
        self.horizon_ = resolve_horizon(self.target, self.horizon, time, untruncated=False)
        self.n_train_ = time.shape[0]
        self.theta_ = float(kernels.km_functional(kernels.risk_table(time, event),
                                                  self.horizon_, self.target))
        self._train = (time, event)
        return self

    def fit_transform(self, y: Any) -> np.ndarray:
        """Leave-one-out pseudo-observations of the training rows, shape (n,)."""
        self.fit(y)
        time, event = self._train
        return kernels.jackknife_pseudo_values(time, event, self.horizon_, self.target)

    def transform(self, y: Any) -> np.ndarray:
        """Add-one pseudo-observations of any rows against the training sample, shape (n,)."""
        check_is_fitted(self)
        time, event = check_survival_outcome(y, require_event=False)
        return kernels.added_pseudo_values(*self._train, time, event, self.horizon_,
                                           self.target)
