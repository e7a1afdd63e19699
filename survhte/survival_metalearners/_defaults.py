"""Default nuisance and base models of the survival meta-learners: the one place to change them.

When the survival forest of :mod:`survhte.forest` lands it replaces :func:`default_base_model`
(and its regression forest :func:`default_effect_model`); every learner picks the change up.
:func:`default_propensity_model` is the package-wide one of :mod:`survhte._propensity`.
"""

from __future__ import annotations

from sklearn.ensemble import RandomForestRegressor
from sklearn.preprocessing import PolynomialFeatures

from .._propensity import default_propensity_model
from ._cox import CoxPH
from ._transformed import TransformedSurvivalModel

__all__ = [
    "default_base_model",
    "default_censoring_model",
    "default_effect_model",
    "default_propensity_model",
]


def default_base_model() -> TransformedSurvivalModel:
    """Quadratic Cox model: ``CoxPH(penalizer=0.05)`` on all covariates, their squares and
    pairwise products.

    The most flexible well-regularised survival model available until the survival forest:
    curvature in each covariate and, for the S-learner (whose treatment indicators are
    covariates), treatment-by-covariate interactions, i.e. a heterogeneous hazard ratio; ridge
    penalised, exact and fast (milliseconds per fit). Chosen over a B-spline additive Cox model,
    which cannot express interactions, on SurvHTE-Bench scenarios A-E.
    """
    return TransformedSurvivalModel(
        PolynomialFeatures(degree=2, include_bias=False), CoxPH(penalizer=0.05)
    )


def default_censoring_model() -> CoxPH:
    """``CoxPH()`` for ``G(t | x, w)``, fitted on ``(X, W)`` with the censorings as events."""
    return CoxPH()


def default_effect_model() -> RandomForestRegressor:
    """Random forest with large leaves (``min_samples_leaf=100``) for the second-stage effect
    regressions of the X-, M- and R-learners (weighted: it accepts ``sample_weight``)."""
    return RandomForestRegressor(n_estimators=200, min_samples_leaf=100, max_features=0.6,
                                 random_state=0)
