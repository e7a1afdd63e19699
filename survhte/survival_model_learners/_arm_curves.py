"""Shared by learners that model one survival curve per treatment level (S and T)."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone

from .._base import SurvivalCATEEstimator, level_code
from .._calibration import upper_slope
from .._nuisance import make_folds
from .._validation import check_time
from .._warnings import user_stacklevel
from ..inference import AIPCW
from ..survival import SURVIVAL_MODEL, SurvivalModel
from ._fitting import learner_seed

#: Folds of the held-out CATE that ``calibrate`` compares with the doubly robust scores: fits
#: on 80% of the rows, whose held-out spread is close to the full fit's (two halves
#: under-stated it: a T-learner on half of a 12%-treated design had slope bound 0.09).
CALIBRATION_FOLDS = 5


class ArmCurvesMixin:
    """``predict_survival(X, w, times)`` and ``effect(X, t0, t1)`` from per-level curves.

    Subclasses set ``classes_``, ``n_features_in_``, ``arm_last_time_`` in ``fit`` and implement
    ``_arm_survival(X, code, times)`` and ``_arm_outcomes(X) -> (n, K + 1)``. The CATE is the
    difference of the arm outcomes, calibrated when ``calibration_slope_`` is set.
    """

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        outcomes = self._arm_outcomes(X)
        return self._calibrated(outcomes[:, 1:] - outcomes[:, [0]])

    def _calibrated(self, tau: np.ndarray) -> np.ndarray:
        """``center + slope * (tau - center)`` per level (unchanged without calibration)."""
        slope = getattr(self, "calibration_slope_", None)
        if slope is None:
            return tau
        return self.calibration_center_ + slope * (tau - self.calibration_center_)

    def predict_survival(self, X: Any, w: Any, times: Any) -> np.ndarray:
        """Predicted (counterfactual) survival curves ``S_w(t | x)`` under treatment level ``w``.

        Parameters
        ----------
        X : array-like of shape (n, p)
        w : treatment label
            One of ``classes_``.
        times : array-like of shape (m,)
            Times within arm ``w``'s follow-up (``<= arm_last_time_``).

        Returns
        -------
        ndarray of shape (n, m)
        """
        X = self._check_X(X)
        code = level_code(self.classes_, w, "w")
        times = check_time(np.atleast_1d(times), name="times")
        last = self.arm_last_time_[code]
        if times.max() > last:
            label = self.classes_.tolist()[code]
            raise ValueError(
                f"times go up to {times.max():g}, beyond the last observed time {last:g} in "
                f"treatment arm {label!r}, where the survival curve is unknown."
            )
        return self._arm_survival(X, code, times)


class ArmCurvesLearner(ArmCurvesMixin, SurvivalCATEEstimator):
    """Base of the S- and T-learners: their shared parameters (documented on each learner)
    and the held-out calibration of their CATE toward its average (``calibrate``).

    Subclasses implement ``_fit_curves(X, time, event, codes)`` (the survival model(s) and
    ``arm_last_time_``); ``_fit_core`` calls it, then :meth:`_fit_calibration`.
    """

    _parameter_constraints: ClassVar[dict] = {
        **SurvivalCATEEstimator._parameter_constraints,
        "base_model": [None, SURVIVAL_MODEL],
        "calibrate": ["boolean"],
    }

    def __init__(
        self,
        base_model: SurvivalModel | None = None,
        *,
        target: str = "rmst",
        horizon: float | None = None,
        calibrate: bool = True,
        n_bootstrap: int = 200,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
    ) -> None:
        self.base_model = base_model
        self.target = target
        self.horizon = horizon
        self.calibrate = calibrate
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.control = control

    def _fit_core(self, X: np.ndarray, time: np.ndarray, event: np.ndarray,
                  codes: np.ndarray) -> None:
        self.calibration_slope_ = self.calibration_center_ = None
        self._fit_curves(X, time, event, codes)
        self._fit_calibration(X, time, event, codes)

    def _fit_curves(self, X: np.ndarray, time: np.ndarray, event: np.ndarray,
                    codes: np.ndarray) -> None:
        raise NotImplementedError

    def _fit_calibration(self, X: np.ndarray, time: np.ndarray, event: np.ndarray,
                         codes: np.ndarray) -> None:
        """Set ``calibration_slope_`` (K,) and ``calibration_center_`` (K,).

        Each row's CATE from a fit on the other folds (``CALIBRATION_FOLDS`` folds stratified
        by level) is compared with cross-fitted doubly robust (AIPCW) scores
        (:class:`survhte.inference.AIPCW`, whose scores have the CATE as conditional mean):
        the factor is the upper one-sided 95% confidence bound of the held-out BLP slope,
        clipped to ``[0, 1]`` (:func:`survhte._calibration.upper_slope`), so the spread is
        scaled down only where the data show it to be partly noise. The centre is the mean
        fitted CATE of the training rows. A bootstrap replicate keeps its parent's factor.
        """
        if not self.calibrate:
            return
        tau = self._predict_core(X)
        fixed = getattr(self, "_fixed_calibration", None)
        if fixed is not None:
            self.calibration_slope_, self.calibration_center_ = fixed, tau.mean(axis=0)
            return
        seed = learner_seed(self.random_state)
        held_out = np.empty_like(tau)
        try:
            for train, test in make_folds(codes, CALIBRATION_FOLDS, seed, self.classes_):
                part = clone(self).set_params(calibrate=False, n_bootstrap=0,
                                              random_state=seed)
                part.classes_, part.horizon_ = self.classes_, self.horizon_
                part._fit_curves(X[train], time[train], event[train], codes[train])
                held_out[test] = part._predict_core(X[test])
            scores = AIPCW(target=self.target, horizon=self.horizon_, random_state=seed
                           ).fit(X, (time, event), codes).scores_.reshape(tau.shape)
        except ValueError as error:
            warnings.warn(
                f"{type(self).__name__}: the CATE is not calibrated (a fit on part of the rows or "
                f"the doubly robust scores failed: {error}); its spread may be partly noise. "
                "Use more rows per arm, an earlier horizon, or calibrate=False to silence "
                "this.", UserWarning, stacklevel=user_stacklevel())
            return
        self.calibration_slope_ = np.array([upper_slope(held_out[:, k], scores[:, k])
                                            for k in range(tau.shape[1])])
        self.calibration_center_ = tau.mean(axis=0)

    def _new_replicate(self) -> ArmCurvesLearner:
        """A bootstrap replicate keeps this fit's calibration factor (no refits of its own)."""
        replicate = clone(self)
        if self.calibration_slope_ is None:
            replicate.set_params(calibrate=False)
        else:
            replicate._fixed_calibration = self.calibration_slope_
        return replicate


def arm_last_times(time: np.ndarray, codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Each treatment level's last observed time, shape (n_levels,)."""
    return np.array([time[codes == code].max() for code in range(n_levels)])

