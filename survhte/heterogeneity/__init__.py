"""Is the heterogeneity real? grf's tools for any fitted CATE estimator of a censored outcome.

- :func:`doubly_robust_scores`, :func:`get_scores`: cross-fitted AIPCW scores, the per-row
  "outcomes" whose conditional mean is the CATE;
- :func:`cross_fitted_cate`: held-out predictions of every row (out of bag for forests);
- :func:`best_linear_projection`: the CATE's best linear summary in chosen covariates;
- :func:`test_calibration`: does the predicted heterogeneity match the scores?
- :func:`rank_average_treatment_effect`: does treating by the predicted CATE first pay (AUTOC,
  QINI, the TOC curve)?
- :func:`cate_group_effects`: the doubly robust effect in each predicted-CATE quantile group;
- :func:`variable_importance`: which covariates the fitted CATE uses (grf's split frequency
  for forests, permutation of the predictions otherwise).
"""

from ._blp import best_linear_projection
from ._calibration import test_calibration
from ._crossfit import cross_fitted_cate
from ._groups import cate_group_effects
from ._importance import variable_importance
from ._rate import RankAverageTreatmentEffect, rank_average_treatment_effect
from ._scores import doubly_robust_scores, get_scores

__all__ = [
    "RankAverageTreatmentEffect",
    "best_linear_projection",
    "cate_group_effects",
    "cross_fitted_cate",
    "doubly_robust_scores",
    "get_scores",
    "rank_average_treatment_effect",
    "test_calibration",
    "variable_importance",
]
