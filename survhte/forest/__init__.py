"""Honest generalized random forests on a numba tree engine.

- :class:`RegressionForest`: ``E[Y | X = x]`` with pointwise intervals;
- :class:`CausalForest`: ``E[Y(1) - Y(0) | X = x]`` for an uncensored outcome, with pointwise
  intervals and the doubly robust average effect.

The engine (``_engine``) grows trees for a strategy (``_strategies``: a relabeling and a
splitting rule for growth, an estimand for prediction from the forest weights); kernels live
in ``survhte._kernels.forest_*``.
"""

from ._causal import CausalForest
from ._regression import RegressionForest

__all__ = ["CausalForest", "RegressionForest"]
