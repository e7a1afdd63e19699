"""Default nuisance and base models of the survival meta-learners: the one place to change them.

The default base model stays the quadratic Cox model rather than the survival forest of
:mod:`survhte.forest` (any of them plugs in as ``base_model=SurvivalForest()``), by
measurement: on the SurvHTE-Bench protocol (RCT-50, OBS-CPS, OBS-UConf, OBS-CPS-IC x
scenarios A-E, repeat 0, ``benchmarks/survhte_bench_survival_meta.py --base forest``) the
median CATE MSE / constant's MSE was 0.58 (S), 0.54 (T), 0.56 (X), 0.65 (matching) with the
quadratic Cox model against 0.78, 0.78, 0.57, 1.03 with ``SurvivalForest(200)``; the S-learner
beat the constant on 20 of 20 datasets with Cox, 11 with the forest. Larger forest leaves
(``min_node_size`` 50 or 150) did not change the ranking. Those forests had grf's
``alpha = 0.05``, under which heavily censored data (scenario D) admit no split;
:func:`censored_forest_model` lifts that constraint. :func:`default_propensity_model` is the
package-wide one of :mod:`survhte._nuisance`.
"""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import RandomForestRegressor
from sklearn.preprocessing import PolynomialFeatures

from .._nuisance import default_propensity_model
from ..forest import SurvivalForest
from ..survival import CoxPH, TransformedSurvivalModel

__all__ = [
    "censored_forest_model",
    "default_base_model",
    "default_censoring_model",
    "default_effect_model",
    "default_propensity_model",
]


def default_base_model() -> TransformedSurvivalModel:
    """Quadratic Cox model: ``CoxPH(penalizer=0.05)`` on all covariates, their squares and
    pairwise products.

    Curvature in each covariate and, for the S-learner (whose treatment indicators are
    covariates), treatment-by-covariate interactions, i.e. a heterogeneous hazard ratio; ridge
    penalised, exact and fast (milliseconds per fit). Chosen over a B-spline additive Cox model,
    which cannot express interactions, on SurvHTE-Bench scenarios A-E.
    """
    return TransformedSurvivalModel(
        PolynomialFeatures(degree=2, include_bias=False), CoxPH(penalizer=0.05)
    )


def censored_forest_model(n_estimators: int = 500, random_state: Any = None) -> Any:
    """The survival forest as a base model for noisy, heavily censored outcomes:
    ``SurvivalForest(n_estimators, alpha=0.0, min_node_size=100)``.

    - ``alpha=0``: grf's split rule keeps ``ceil(alpha m)`` events in each child of a node of
      ``m`` rows, so with fewer than ``2 alpha`` of the rows having an event (90% censoring)
      no tree splits at all (:class:`~survhte.forest.UnsplitForestWarning`) and every
      covariate profile gets the pooled curve; without it only ``min_node_size`` limits
      the splits.
    - ``min_node_size=100``: a learner's CATE is a difference of two curve estimates, whose
      noise grows as leaves shrink; larger leaves trade some bias for less variance.

    On SurvHTE-Bench (RCT-50, OBS-CPS, repeats 0-4, ``benchmarks/survhte_bench_survival_meta.py
    --base forest``) the T-learner on it beats the best constant on scenarios A-E, which
    ``SurvivalForest()`` with grf's defaults does not on D (its trees do not split) and E.
    """
    return SurvivalForest(n_estimators, alpha=0.0, min_node_size=100,
                          random_state=random_state)


def default_censoring_model() -> CoxPH:
    """``CoxPH()`` for ``G(t | x, w)``, fitted on ``(X, W)`` with the censorings as events."""
    return CoxPH()


def default_effect_model() -> RandomForestRegressor:
    """Random forest with large leaves (``min_samples_leaf=100``) for the second-stage effect
    regressions of the X-, M- and R-learners (weighted: it accepts ``sample_weight``)."""
    return RandomForestRegressor(n_estimators=200, min_samples_leaf=100, max_features=0.6,
                                 random_state=0)
