"""Survival meta-learners: CATE from per-arm (or pooled) survival models.

Learners: :class:`SurvivalTLearner`. Base survival models: :class:`CoxPH`, or any estimator
following the :class:`SurvivalModel` interface (``fit(X, time, event)``,
``predict_survival(X, times)``, ``unique_times_``).
"""

from ._base_models import CoxPH, SurvivalModel
from ._tlearner import SurvivalTLearner

__all__ = ["CoxPH", "SurvivalModel", "SurvivalTLearner"]
