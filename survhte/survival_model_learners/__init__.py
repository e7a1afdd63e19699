"""Survival-model meta-learners: CATE from survival models of the outcome, fitted per arm or
on ``(X, W)``, whose curves give each arm's RMST or survival at the horizon (no imputation).

Learners
--------
:class:`SurvivalSLearner`, :class:`SurvivalTLearner` (per-arm curves),
:class:`SurvivalXLearner`, :class:`MatchingLearner`, :class:`SurvivalMLearner`,
:class:`SurvivalRLearner`: each takes treatment levels ``0..K`` and predicts the effect of each
treated level vs the control, shape (n,) for a binary treatment and (n, K) otherwise.

Base survival models (from :mod:`survhte.survival`)
----------------------------------------------------
:class:`~survhte.survival.CoxPH`, ``WeibullAFT``, ``KaplanMeierSurvival``,
``TransformedSurvivalModel``, ``LifelinesSurvivalModel``, or any estimator following
the ``SurvivalModel`` interface (``fit(X, time, event, sample_weight=None)``,
``predict_survival(X, times)``, and ``unique_times_`` or ``restricted_mean(X, horizon)``).
Defaults live in :func:`default_base_model` and its siblings. :data:`LEARNERS` maps each
learner's short name to its class (the study registry, benchmarks and tests iterate it).
"""

from ._defaults import (
    censored_forest_model,
    default_arm_model,
    default_base_model,
    default_censoring_model,
    default_effect_model,
    default_outcome_model,
    default_propensity_model,
    legacy_base_model,
    legacy_effect_model,
)
from ._matching import MatchingLearner
from ._mlearner import SurvivalMLearner
from ._rlearner import SurvivalRLearner
from ._shrinkage import ShrunkEffectRegressor
from ._slearner import SurvivalSLearner
from ._tlearner import SurvivalTLearner
from ._xlearner import SurvivalXLearner

#: Every survival meta-learner by its short name.
LEARNERS = {
    "S": SurvivalSLearner,
    "T": SurvivalTLearner,
    "X": SurvivalXLearner,
    "Matching": MatchingLearner,
    "M": SurvivalMLearner,
    "R": SurvivalRLearner,
}

__all__ = [
    "LEARNERS",
    "MatchingLearner",
    "ShrunkEffectRegressor",
    "SurvivalMLearner",
    "SurvivalRLearner",
    "SurvivalSLearner",
    "SurvivalTLearner",
    "SurvivalXLearner",
    "censored_forest_model",
    "default_arm_model",
    "default_base_model",
    "default_censoring_model",
    "default_effect_model",
    "default_outcome_model",
    "default_propensity_model",
    "legacy_base_model",
    "legacy_effect_model",
]
