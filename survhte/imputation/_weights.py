"""Inverse-probability-of-censoring weights for complete-case analysis of ``min(T, h)``."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
from array_api_compat import array_namespace
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._nuisance import CENSORING_FLOOR
from .._params import Interval, Options, validate_params
from .._validation import (
    check_covariates,
    check_horizon,
    check_survival_outcome,
    check_treatment,
    to_namespace,
    to_numpy,
)
from ..survival import survival_at_rows
from ._base import like_outcome
from ._censoring import fit_censoring_model

CENSORING = ("km", "cox")


class IPCWeights(BaseEstimator):
    r"""Inverse-probability-of-censoring weights of the rows whose truncated outcome is known.

    Row ``i`` observes :math:`\min(T_i, h)` when its event is observed or it is followed up to
    ``h`` (:math:`Y_i \ge h`); that happens with probability
    :math:`G(\min(T_i, h)- \mid x_i, w_i)`, where :math:`G(t \mid x, w) = P(C > t \mid x, w)`.
    The weight is

    .. math::

        \omega_i = \frac{1\{\delta_i = 1 \text{ or } Y_i \ge h\}}
                        {\max\{\hat G(\min(Y_i, h)- \mid x_i, w_i),\ \text{floor}\}},

    so that :math:`\frac1n\sum_i \omega_i\, g(\min(Y_i, h), x_i)` is unbiased for
    :math:`E[g(\min(T, h), X)]` (Robins & Rotnitzky 1992); fit any regressor with
    ``sample_weight=omega`` on the rows with :math:`\omega_i > 0`. The left limit matters at
    ties: an event at the same time as a censoring happens first, so the censoring at ``t``
    does not lower an event's weight at ``t``. With ``censoring="km"`` and no covariates, the
    weighted mean of :math:`\min(Y, h)` is the Kaplan-Meier RMST exactly.

    Array-API inputs keep their namespace with ``censoring="km"``: when ``y`` holds arrays of a
    non-NumPy array-API library (CuPy on a GPU, ``array_api_strict``, ...), the Kaplan-Meier
    censoring curves are fitted and evaluated there and the weights are an array of that
    namespace, on that device (treatment labels are encoded on the host; only their codes
    move). With ``censoring="cox"`` the Cox model is fitted and evaluated on host NumPy copies
    (``y`` and ``X`` converted at validation) and only the weights are moved back.

    Parameters
    ----------
    censoring : {"km", "cox"}, default "km"
        Model of ``G``: Kaplan-Meier of the censoring times (within each treatment arm when
        ``w`` is given; events first at ties), or a Cox model on ``(X, w)`` (one-hot ``w``)
        with event indicator ``1 - event``
        (:class:`~survhte.survival.CoxPH`, ridge penalty 0.01).
    horizon : float, default None
        ``h``, at most the last training time. ``None``: no truncation (only event rows get
        a weight).
    floor : float, default 0.05
        Lower bound on ``G``: weights are at most ``1 / floor``. A warning names the share of
        weighted rows where it binds (grf's ``causal_survival_forest`` warns at the same level).

    Attributes
    ----------
    models_ : dict
        Fitted censoring model per treatment code (key ``None`` when unstratified).
    classes_ : ndarray or None
        Treatment labels seen in :meth:`fit`.
    horizon_ : float or None

    References
    ----------
    Robins, J. M. & Rotnitzky, A. (1992). Recovery of information and adjustment for dependent
    censoring using surrogate markers. In *AIDS Epidemiology*, 297-331. Birkhauser.

    Examples
    --------
    >>> from survhte.imputation import IPCWeights
    >>> y = ([1.0, 2.0, 3.0, 4.0], [1, 0, 1, 1])
    >>> IPCWeights(horizon=3.5).fit_transform(y).round(6).tolist()
    [1.0, 0.0, 1.5, 1.5]
    """

    _parameter_constraints: ClassVar[dict] = {
        "censoring": [Options(CENSORING)],
        "horizon": [None, Interval(float, 0, None, closed="neither")],
        "floor": [Interval(float, 0, 1, closed="neither")],
    }

    def __init__(self, censoring: str = "km", horizon: float | None = None,
                 floor: float = CENSORING_FLOOR) -> None:
        self.censoring = censoring
        self.horizon = horizon
        self.floor = floor

    def _design(self, X: Any, w: Any, n: int, *, fitting: bool) -> tuple[Any, Any]:
        """Covariates for the Cox model and treatment codes (``None`` where not used)."""
        codes = None
        if w is not None:
            if fitting:
                codes, self.classes_ = check_treatment(w, n_samples=n,
                                                       keep_namespace=self.censoring == "km")
            else:
                codes = self._encode(w, n)
        if self.censoring == "km":
            return None, codes
        if X is None:
            raise ValueError("censoring='cox' needs the covariates X.")
        X, _ = check_covariates(X, n_features=None if fitting else self.n_features_in_)
        if X.shape[0] != n:
            raise ValueError(f"X has {X.shape[0]} rows but y has {n}.")
        if fitting:
            self.n_features_in_ = X.shape[1]
        if codes is not None:
            X = np.column_stack([X, codes[:, None] == np.arange(1, len(self.classes_))])
        return X, None

    def _encode(self, w: Any, n: int) -> np.ndarray:
        if self.classes_ is None:
            raise ValueError("w was not given to fit; pass w=None to transform.")
        labels = np.asarray(to_numpy(w, "w"))  # labels are host metadata
        if labels.shape != (n,):
            raise ValueError(f"w must have shape ({n},); got {labels.shape}.")
        codes = np.searchsorted(self.classes_, labels)
        codes = np.minimum(codes, len(self.classes_) - 1)
        if not np.all(self.classes_[codes] == labels):
            raise ValueError(f"w has levels not seen in fit; levels are {self.classes_.tolist()}.")
        return codes

    def fit(self, y: Any, X: Any = None, w: Any = None) -> IPCWeights:
        """Fit the censoring model on training rows.

        Parameters
        ----------
        y : survival outcome, any accepted form
        X : array-like of shape (n, p), optional
            Needed for ``censoring="cox"``.
        w : array-like of shape (n,), optional
            Treatment: stratifies the Kaplan-Meier curves, or enters the Cox model.

        Returns
        -------
        self
        """
        validate_params(self)
        time, event = check_survival_outcome(y, require_event=True,
                                             keep_namespace=self.censoring == "km")
        self.classes_ = None
        self.horizon_ = None if self.horizon is None else check_horizon(self.horizon, time)
        design, codes = self._design(X, w, time.shape[0], fitting=True)
        if codes is not None:
            codes = to_namespace(codes, time)
        if codes is None:
            self.models_ = {None: fit_censoring_model(self.censoring, design, time, event)}
        else:
            self.models_ = {}
            for code, label in enumerate(self.classes_.tolist()):
                rows = codes == code
                if not bool(array_namespace(event).any(event[rows])):
                    raise ValueError(f"treatment arm {label!r} has no events.")
                self.models_[code] = fit_censoring_model("km", None, time[rows], event[rows])
        return self

    def transform(self, y: Any, X: Any = None, w: Any = None) -> np.ndarray:
        """Weights of any rows from the training censoring model.

        Returns
        -------
        ndarray of shape (n,)
            ``1 / max(G(min(Y, h)-), floor)`` where ``min(T, h)`` is observed, else 0.
        """
        check_is_fitted(self)
        time, event = check_survival_outcome(y, require_event=False,
                                             keep_namespace=self.censoring == "km")
        xp = array_namespace(time)
        n = time.shape[0]
        design, codes = self._design(X, w, n, fitting=False)
        horizon = np.inf if self.horizon_ is None else self.horizon_
        known = event | (time >= horizon)
        cutoff = xp.minimum(time, xp.full_like(time, horizon))
        survival = xp.ones_like(time)
        if None in self.models_ and design is None:
            survival = to_namespace(self.models_[None].predict(cutoff, left=True), time)
        elif None in self.models_:
            survival = survival_at_rows(self.models_[None], design, cutoff, left=True)
        else:
            if codes is None:
                raise ValueError("the weights were fitted per treatment arm: pass w.")
            codes = to_namespace(codes, time)
            for code, model in self.models_.items():
                arm = to_namespace(model.predict(cutoff, left=True), time)
                survival = xp.where(codes == code, arm, survival)
        low = known & (survival < self.floor)
        n_low = int(xp.count_nonzero(low))
        if n_low:
            warnings.warn(
                f"censoring survival G below floor={self.floor:g} for "
                f"{n_low / int(xp.count_nonzero(known)):.1%}"
                f" of the rows with a known outcome ({n_low} rows); their weights are "
                f"capped at {1 / self.floor:g}.",
                UserWarning,
                stacklevel=2,
            )
        floor = xp.full_like(survival, self.floor)
        weight = xp.where(known, 1.0 / xp.maximum(survival, floor), xp.zeros_like(survival))
        return like_outcome(weight, y)

    def fit_transform(self, y: Any, X: Any = None, w: Any = None) -> np.ndarray:
        """``fit(y, X, w).transform(y, X, w)``."""
        return self.fit(y, X, w).transform(y, X, w)
