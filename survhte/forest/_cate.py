"""The causal forests as CATE estimators: :class:`survhte._base.CATEEstimator`'s contract on
the forest engine.

``predict``, ``effect``, ``predict_interval``, ``ate`` and ``ate_interval`` are the base's;
the forests supply its cores: the forest estimate (one column per treated level), the
little-bag interval, and the doubly robust average effects of :mod:`._average`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import norm

from .._base import CATEEstimator, _squeeze
from ._average import average_effect
from ._base import BaseForest, normal_interval
from ._levels import LevelForestsMixin


class CATEForest(LevelForestsMixin, CATEEstimator, BaseForest):
    """Base of :class:`~survhte.forest.CausalForest` and
    :class:`~survhte.forest.CausalSurvivalForest` (``CATEEstimator`` with ``BaseForest`` for
    the engine; per-level forests for more than two treatment levels).

    - ``predict_interval``: ``tau(x) +- z_{1 - alpha/2} sqrt(V(x))`` with the little-bag
      variance ``V`` (Wager & Athey 2018, thm. 3.1; Athey, Tibshirani & Wager 2019, thm. 5);
      needs ``ci_group_size >= 2``.
    - ``ate(target_population)``: grf's doubly robust ``average_treatment_effect``
      (:func:`survhte.forest._average.average_effect`): ``"all"`` the AIPW mean, ``"treated"``
      the effect of each level on its own rows, ``"control"`` on the control rows;
      ``ate_interval`` the normal interval with grf's standard error
      (:meth:`ate_std_error`).
    """

    def _predict_core(self, X: np.ndarray) -> np.ndarray:
        return self._predict(X)[0].reshape(X.shape[0], -1)

    def _interval_core(self, X: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        lower, upper = normal_interval(*self._predict(X, variance=True), alpha)
        return lower.reshape(X.shape[0], -1), upper.reshape(X.shape[0], -1)

    def _ate_core(self, population: str, alpha: float | None = None
                  ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        center, se = average_effect(self, population)
        if alpha is None:
            return center, None
        half = norm.ppf(1 - alpha / 2) * se
        return center, (center - half, center + half)

    def ate_std_error(self, target_population: str = "all") -> Any:
        """Standard error of :meth:`ate` (grf's): float for a binary treatment, ndarray of
        shape (K,) otherwise."""
        self._check_fitted()
        return _squeeze(average_effect(self, target_population)[1])
