"""Is the heterogeneity real? grf's tools for any fitted CATE estimator of a censored outcome.

- :func:`doubly_robust_scores`, :func:`get_scores`: cross-fitted AIPCW scores, the per-row
  "outcomes" whose conditional mean is the CATE;
"""

from ._scores import doubly_robust_scores, get_scores

__all__ = ["doubly_robust_scores", "get_scores"]
