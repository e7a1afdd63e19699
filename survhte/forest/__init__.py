"""Honest generalized random forests on a numba tree engine.

- :class:`RegressionForest`: ``E[Y | X = x]`` with pointwise intervals;
- :class:`CausalForest`: ``E[Y(1) - Y(0) | X = x]`` for an uncensored outcome, with pointwise
  intervals and the doubly robust average effect.
- :class:`CausalSurvivalForest`: ``E[f(T(1)) - f(T(0)) | X = x]`` for a censored outcome,
  ``f(T) = min(T, h)`` or ``1{T > h}`` (Cui et al. 2023), with intervals and average effects.
- :class:`MultiArmCausalForest`, :class:`MultiArmCausalSurvivalForest`: the K effects of a
  multi-valued treatment from one forest split on the vector estimating equation (``_multi_arm``).
- :class:`SurvivalForest`: ``S(t | x)`` and its RMST by log-rank trees and forest-weighted
  Kaplan-Meier (Ishwaran et al. 2008; grf's ``survival_forest``), out of bag on training rows.

The engine (``_engine``) grows trees for a strategy (``_strategies``: a relabeling and a
splitting rule for growth, an estimand for prediction from the forest weights); kernels live
in ``survhte._kernels.forest_*``. The causal forests are :class:`survhte._base.CATEEstimator`
subclasses (``_cate``: the base's cores on the engine; ``_levels``: one forest per treated
level); their nuisances (propensity through :mod:`survhte._nuisance`, overlap check, survival
nuisances) are in ``_nuisances``, the causal survival scores in ``_survival_scores`` and the
doubly robust average effects of both in ``_average``.
"""

from ._base import UnsplitForestWarning
from ._causal import CausalForest
from ._causal_survival import CausalSurvivalForest
from ._multi_arm import MultiArmCausalForest, MultiArmCausalSurvivalForest
from ._regression import RegressionForest
from ._survival import SurvivalForest

__all__ = ["CausalForest", "CausalSurvivalForest", "MultiArmCausalForest",
           "MultiArmCausalSurvivalForest", "RegressionForest", "SurvivalForest",
           "UnsplitForestWarning"]
