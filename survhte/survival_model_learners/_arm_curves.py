"""Shared by learners that model one survival curve per treatment level (S and T)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._base import SurvivalCATEEstimator, level_code
from .._validation import check_time
from ..survival import SURVIVAL_MODEL, SurvivalModel


class ArmCurvesMixin:
    """``predict_survival(X, w, times)`` and ``effect(X, t0, t1)`` from per-level curves.

    Subclasses set ``classes_``, ``n_features_in_``, ``arm_last_time_`` in ``fit`` and implement
    ``_arm_survival(X, code, times)`` and ``_arm_outcomes(X) -> (n, K + 1)``.
    """

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        outcomes = self._arm_outcomes(X)
        return outcomes[:, 1:] - outcomes[:, [0]]

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

    def _contrast(self, X: np.ndarray, first: int, second: int) -> np.ndarray:
        """``effect``'s contrast: the difference of the two levels' outcomes."""
        outcomes = self._arm_outcomes(X)
        return outcomes[:, second] - outcomes[:, first]


class ArmCurvesLearner(ArmCurvesMixin, SurvivalCATEEstimator):
    """Base of the S- and T-learners: their shared parameters (documented on each learner)."""

    _parameter_constraints: ClassVar[dict] = {
        **SurvivalCATEEstimator._parameter_constraints,
        "base_model": [None, SURVIVAL_MODEL],
    }

    def __init__(
        self,
        base_model: SurvivalModel | None = None,
        *,
        target: str = "rmst",
        horizon: float | None = None,
        n_bootstrap: int = 200,
        random_state: int | np.random.RandomState | None = None,
        control: Any = None,
    ) -> None:
        self.base_model = base_model
        self.target = target
        self.horizon = horizon
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.control = control


def arm_last_times(time: np.ndarray, codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Each treatment level's last observed time, shape (n_levels,)."""
    return np.array([time[codes == code].max() for code in range(n_levels)])

