"""Ensembles of CATE estimators chosen without ground truth.

- :class:`EnsembleCATE`: cross-fitted members (causal survival forest, imputed and
  survival-model learners) weighed by their doubly robust (AIPCW) loss and calibrated toward the
  average effect by the held-out best-linear-predictor slope.
"""

from ._ensemble import EnsembleCATE, default_members

__all__ = ["EnsembleCATE", "default_members"]
