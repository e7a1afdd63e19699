"""Covariate-free base model: the Kaplan-Meier curve, the same for every row."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from array_api_compat import array_namespace, device
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._validation import check_covariates, check_time, foreign_namespace, to_namespace
from ._nonparametric import KaplanMeier


class KaplanMeierSurvival(BaseEstimator):
    """Kaplan-Meier curve as a base survival model that ignores the covariates.

    ``S(t | x) = S_KM(t)`` for every ``x``. Useful as a censoring model under censoring that
    does not depend on the covariates (``censoring_model=KaplanMeierSurvival()``), and as the
    no-covariate baseline of a learner. Wraps :class:`survhte.survival.KaplanMeier`.

    Array-API inputs keep their namespace: fitted on arrays of a non-NumPy array-API library
    (CuPy, ``array_api_strict``, ...), the curve, ``unique_times_`` and
    :meth:`predict_survival` are arrays of that namespace, on that device.

    Attributes
    ----------
    km_ : KaplanMeier
        The fitted curve.
    unique_times_ : ndarray
        Event times (where the curve jumps).
    n_features_in_ : int

    References
    ----------
    Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations.
    *JASA*, 53, 457-481.

    Examples
    --------
    >>> import numpy as np
    >>> from survhte.survival import KaplanMeierSurvival
    >>> X = np.zeros((4, 1))
    >>> model = KaplanMeierSurvival().fit(X, [1.0, 2.0, 2.0, 3.0], [1, 1, 0, 0])
    >>> model.predict_survival(X[:2], [1.5, 3.0]).round(6).tolist()
    [[0.75, 0.5], [0.75, 0.5]]
    """

    #: Fits and predicts in the namespace of array-API inputs (:mod:`survhte._validation`).
    _keeps_namespace: ClassVar[bool] = True

    def fit(self, X: Any, time: Any, event: Any, sample_weight: Any = None) -> KaplanMeierSurvival:
        """Fit the curve to ``(time, event)``; ``X`` only fixes the number of features."""
        X, _ = check_covariates(X, keep_namespace=True)
        n_time = time.shape[0] if foreign_namespace(time) is not None else np.size(time)
        if X.shape[0] != n_time:
            raise ValueError(f"time has {n_time} rows but X has {X.shape[0]}.")
        self.km_ = KaplanMeier().fit(time, event, sample_weight)
        self.unique_times_ = self.km_.timeline_[self.km_.n_events_ > 0]
        self.n_features_in_ = X.shape[1]
        return self

    def predict_survival(self, X: Any, times: Any) -> np.ndarray:
        """``S_KM(t)`` at ``times`` for every row of ``X``, shape (n, len(times))."""
        check_is_fitted(self)
        X, _ = check_covariates(X, n_features=self.n_features_in_, keep_namespace=True)
        if foreign_namespace(times) is None:
            times = np.atleast_1d(times)
        times = to_namespace(check_time(times, name="times", keep_namespace=True),
                             self.km_.timeline_)
        curve = self.km_.predict(times)
        xp = array_namespace(curve)
        # A C-ordered (rows, times) array, as np.tile gives: the same BLAS path downstream.
        ones = xp.ones((X.shape[0], 1), dtype=curve.dtype, device=device(curve))
        return ones * xp.expand_dims(curve, axis=0)
