"""Default nuisance and base models of the survival meta-learners: the one place to change them.

Base models (issue 18). The fixed quadratic Cox model (``CoxPH(penalizer=0.05)`` on all
squares and products: 135 features per arm with 15 covariates), chosen on the near-linear
SurvHTE-Bench designs, made the T-learner worse than the constant-ATE predictor on
:func:`survhte.simulate.stress_design` (CATE RMSE / sd(tau), seed 0: nonlinear 0.92,
small_arm 1.17, trial_4arm 2.28). The defaults are now
:class:`~survhte.survival.SelectedSurvivalModel` choices by the cross-validated IPCW
integrated Brier score up to the learner's horizon (3 folds):

- T- and R-learners (per-arm models, :func:`default_arm_model`): the linear-predictor
  candidates (Cox at ridge penalties 0.01, 0.1, 1; Weibull AFT), one candidate for every
  arm. The arm-wise loss prefers the quadratic models where the prognosis is nonlinear
  (IPCW integrated Brier 0.108 vs 0.113 on one nonlinear arm), but the T-learner's CATE is a
  difference of two separately fitted curves: errors that a linear model makes alike in both
  arms cancel, the quadratic model's variance does not (T-learner, seed 0, linear Cox vs
  quadratic 0.05 / 0.5: nonlinear 0.66 vs 0.92 / 0.76, confounded 0.68 vs 0.95 / 0.84,
  small_arm 0.65 vs 1.17 / 0.87). The R-learner is nearly insensitive to it (0.62 vs 0.63
  on nonlinear), being orthogonal to errors in its outcome models.
- X-learner (:func:`default_outcome_model`): all candidates, one for every arm, since its
  imputed effects ``f(Y) - mu_0(x)`` carry each arm's prediction error (seed 0, all vs
  linear: nonlinear 0.56 vs 0.60, confounded 0.73 vs 0.75, trial_4arm 0.96 vs 0.94).
- S-learner and matching (pooled model on ``[X, W]``, :func:`default_base_model`): the
  quadratic Cox model at penalty 0.05 (the old default) while there are at least 2 events
  per feature, else the linear candidates. Its treatment-by-covariate products carry the
  effect modification; a linear pooled Cox model has one hazard ratio for everyone
  (S-learner 1.11-1.14 on four stress designs, against 0.56-0.65 quadratic), which the
  held-out loss does not see. Nor does it see the penalty's effect on the CATE: a second
  quadratic candidate at 0.5, chosen on 4 of 15 SurvHTE-Bench draws, made the S-learner
  worse each time (0.68 -> 0.88 on RCT-50 A), so there is one.
- The survival forest (:func:`censored_forest_model`) is not a default candidate: it was not
  the best by held-out loss on the nonlinear design's arms (0.116 vs 0.108) and a fit costs
  2-4 s at n = 2,000 against milliseconds (learners are refitted in every bootstrap);
  ``SelectedSurvivalModel(candidates=[..., ("forest", censored_forest_model())])`` scores
  it out of bag.

Earlier measurement (kept for the forest): on the SurvHTE-Bench protocol (RCT-50, OBS-CPS,
OBS-UConf, OBS-CPS-IC x scenarios A-E, repeat 0, ``benchmarks/survhte_bench_survival_meta.py
--base forest``) the median CATE MSE / constant's MSE was 0.58 (S), 0.54 (T), 0.56 (X), 0.65
(matching) with the quadratic Cox model against 0.78, 0.78, 0.57, 1.03 with
``SurvivalForest(200)``. Those forests had grf's ``alpha = 0.05``, under which heavily
censored data (scenario D) admit no split; :func:`censored_forest_model` lifts that
constraint.

Second stage: :func:`default_effect_model` shrinks the forest toward the average effect by
the upper 90% bound of its held-out calibration slope (:class:`ShrunkEffectRegressor`): on
trial_4arm (seed 0) the slopes were 0.1-0.9 and the R-learner went from 1.09 to 0.98.
:func:`default_propensity_model` is the package-wide one of :mod:`survhte._nuisance`.

All together (``benchmarks/defaults_survival_learners.py``, seeds 0-2, mean CATE RMSE /
sd(tau), before -> after; the true-ATE constant is 1): nonlinear S 0.57 -> 0.57, T 0.97 ->
0.65, X 0.56 -> 0.56, matching 0.92 -> 0.56, M 1.15 -> 0.65, R 0.61 -> 0.61; small_arm T
1.12 -> 0.79, matching 0.98 -> 0.64, M 1.90 -> 0.90, R 0.75 -> 0.81; trial_4arm S 0.98 ->
0.98, T 2.27 -> 1.12, X 0.98 -> 0.94, matching 1.40 -> 0.92, M 2.04 -> 1.07, R 1.19 -> 1.03
(a trial-size signal: the T-, M- and R-learners stay above the constant there). Every
learner is below 1 on nonlinear, confounded, heavy_censoring and small_arm. SurvHTE-Bench
(RCT-50 A/C/E, OBS-CPS B/D, n = 2000) changes within noise except the M-learner (e.g.
RCT-50 E 21.4 -> 1.9, OBS-CPS D 20.6 -> 0.8). Fit seconds at n = 4000 (nonlinear, one BLAS
thread, shared machine): S 0.5, T 0.4, X 3.7, matching 0.4, M 3.5, R 4.0 (before: 0.5, 0.4,
2.9, 0.3, 2.4, 3.1).
"""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import RandomForestRegressor
from sklearn.preprocessing import PolynomialFeatures

from .._nuisance import default_propensity_model
from ..forest import SurvivalForest
from ..survival import CoxPH, SelectedSurvivalModel, TransformedSurvivalModel
from ._shrinkage import ShrunkEffectRegressor

__all__ = [
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


def default_base_model() -> SelectedSurvivalModel:
    """Pooled outcome model of the S-learner and the matching learner, on ``[X, W]``:
    :class:`~survhte.survival.SelectedSurvivalModel` with ``candidates="quadratic"``: the
    quadratic Cox model (ridge penalty 0.05), or, with fewer than 2 events per feature of
    the expansion or more than 25 covariates, the linear candidates chosen by the
    cross-validated IPCW integrated Brier score up to the learner's horizon."""
    return SelectedSurvivalModel(candidates="quadratic")


def default_arm_model() -> SelectedSurvivalModel:
    """Per-arm outcome model of the T-, X- and R-learners:
    :class:`~survhte.survival.SelectedSurvivalModel` over the linear-predictor candidates
    (``candidates="linear"``: Cox at ridge penalty 0.01, 0.1 or 1, Weibull AFT), one
    candidate for every arm."""
    return SelectedSurvivalModel(candidates="linear")


def default_outcome_model() -> SelectedSurvivalModel:
    """Per-arm outcome model of the X-learner, whose imputed effects need each arm's outcome
    predicted well: :class:`~survhte.survival.SelectedSurvivalModel` over all candidates
    (``candidates="all"``: linear and, with enough events, quadratic Cox; Weibull AFT), one
    for every arm."""
    return SelectedSurvivalModel(candidates="all")


def legacy_base_model() -> TransformedSurvivalModel:
    """The fixed default before issue 18: ``CoxPH(penalizer=0.05)`` on all covariates, their
    squares and pairwise products (for comparisons: ``base_model=legacy_base_model()``)."""
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

    Examples
    --------
    >>> from survhte import SurvivalTLearner
    >>> from survhte.simulate import stress_design
    >>> from survhte.survival_model_learners import censored_forest_model
    >>> s = stress_design("heavy_censoring", n=600, random_state=0)      # ~75% censored
    >>> est = SurvivalTLearner(censored_forest_model(50, random_state=0), horizon=15.0,
    ...                        n_bootstrap=0).fit(s.X, s.y, s.w)
    >>> est.predict(s.X[:3]).shape
    (3,)
    """
    return SurvivalForest(n_estimators, alpha=0.0, min_node_size=100,
                          random_state=random_state)


def default_censoring_model() -> CoxPH:
    """``CoxPH()`` for ``G(t | x, w)``, fitted on ``(X, W)`` with the censorings as events."""
    return CoxPH()


def default_effect_model() -> ShrunkEffectRegressor:
    """Second-stage effect regression of the X-, M- and R-learners (weighted: it accepts
    ``sample_weight``): :class:`ShrunkEffectRegressor`, a random forest with large leaves
    (``min_samples_leaf=100``) shrunk toward the average effect by its out-of-bag
    calibration slope."""
    return ShrunkEffectRegressor()


def legacy_effect_model() -> RandomForestRegressor:
    """The second stage before issue 18: ``RandomForestRegressor(200, min_samples_leaf=100,
    max_features=0.6)``, unshrunk (for comparisons: ``effect_model=legacy_effect_model()``)."""
    return RandomForestRegressor(n_estimators=200, min_samples_leaf=100, max_features=0.6,
                                 random_state=0)
