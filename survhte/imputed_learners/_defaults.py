"""Default learners of the imputation meta-learners: the one place to change them.

Censored outcomes turned into pseudo-outcomes are noisy (a pseudo-observation can fall outside
``[0, h]``; an IPCW weight can reach 20), and the second-stage targets of the X-, DR- and
R-learners are noisier still (inverse propensities, residual ratios). The defaults are
therefore strongly regularised and tune their own size by a held-out loss.
"""

from __future__ import annotations

from sklearn.ensemble import HistGradientBoostingRegressor

from .._nuisance import default_propensity_model
from ._cv import BinnedBoosting, CrossValidatedRegressor, SplineRidge

__all__ = [
    "default_effect_regressor",
    "default_outcome_regressor",
    "default_propensity_model",
    "default_regressor",
    "default_s_regressor",
    "default_weighted_regressor",
    "previous_s_regressor",
]


def default_regressor() -> HistGradientBoostingRegressor:
    """Strongly regularised histogram gradient boosting with early stopping.

    Trees of depth 2 (main effects and pairwise interactions) with at least 200 rows per leaf,
    ``l2_regularization=10``, ``learning_rate=0.02``, up to 300 rounds, stopped when the
    squared error on a 25% validation split has not improved for 10 rounds. Early stopping is
    the learner's own held-out choice of complexity: on a pseudo-outcome whose signal is small
    against its noise it stops after a few rounds (close to a constant), on a clear signal it
    grows. Large leaves average out the per-row noise of pseudo-observations and inverse
    weights; the small learning rate and short patience limit how far it overshoots (scikit-learn
    keeps the last ``n_iter_no_change`` rounds). Chosen on SurvHTE-Bench RCT-50 / OBS-CPS
    scenarios A and D over the default-sized booster (8 leaves of 50 rows, learning rate 0.05,
    patience 20), which fitted noise in the T-, X- and DR-learners (CATE MSE above the
    constant's in scenario D). Accepts ``sample_weight``; fits 5,000 rows in well under a
    second.

    The propensity default, :func:`~survhte._propensity.default_propensity_model` (cubic
    B-splines + ridge logistic regression), is shared with the rest of the package: inverse
    propensities punish over-confident probabilities, and a penalised logistic fit is
    calibrated by construction (multinomial for more than two levels).
    """
    return HistGradientBoostingRegressor(
        learning_rate=0.02,
        max_iter=300,
        max_depth=2,
        min_samples_leaf=200,
        l2_regularization=10.0,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=10,
    )


def default_outcome_regressor() -> CrossValidatedRegressor:
    """The T- and X-learners' outcome (and X's stage-2) default: the best of a ridge on cubic
    splines, the strongly regularised booster of :func:`default_regressor` and a larger one
    (8 leaves of 50 rows), chosen by 5-fold cross-validated squared error, its fold fits
    bagged (:class:`CrossValidatedRegressor` with ``shrink=False``).

    Why: on the stress designs (15 covariates, nonlinear effects; survhte.simulate.stress_design)
    no single fixed size won everywhere. The fold fits also give each training row an
    out-of-fold prediction, from which the learner calibrates its CATE toward the average
    effect (``calibration_slope_``) at no extra fit.
    """
    return CrossValidatedRegressor(n_folds=3, shrink=False)


def default_effect_regressor() -> CrossValidatedRegressor:
    """The DR- and R-learners' second-stage default: :func:`default_outcome_regressor`'s
    candidates chosen by 5-fold CV, calibrated toward the mean by the slope of the held-out
    regression of the (DR pseudo- / R-residual) target on the out-of-fold predictions, clipped
    to ``[0, 1]`` (:class:`CrossValidatedRegressor` with ``shrink=True``): where the
    pseudo-outcome's noise swamps the signal (a 4-arm trial-size design) the slope goes to 0
    and the CATE to the average effect, instead of a spread that is mostly noise.
    """
    return CrossValidatedRegressor(shrink=True)


def default_s_regressor() -> CrossValidatedRegressor:
    """The S-learner's default: chosen by 5-fold CV among a ridge on cubic splines with
    treatment-by-spline interactions (:class:`SplineRidge` with ``interact_last`` set by the
    learner to the number of treated levels), an early-stopped booster of 8 leaves of 50 rows
    (the previous default) and a larger one (16 leaves of 20 rows). Not shrunk: the learner
    calibrates its CATE itself. The S-learner sees the effect only as an interaction between
    the treatment indicators and ``X``; the depth-2, 200-row-leaf trees of
    :func:`default_regressor` never split on the treatment when the effect is small against
    the prognostic signal (SurvHTE-Bench scenario A), so it gets larger trees.
    """
    return CrossValidatedRegressor(candidates=[
        SplineRidge(interact_last=1),
        BinnedBoosting(learning_rate=0.1, max_iter=300, max_leaf_nodes=8, min_samples_leaf=50,
                       l2_regularization=1.0, validation_fraction=0.2, n_iter_no_change=10),
        BinnedBoosting(learning_rate=0.1, max_iter=300, max_leaf_nodes=16, min_samples_leaf=20,
                       l2_regularization=1.0, validation_fraction=0.2, n_iter_no_change=10),
    ], n_folds=3, shrink=False)


def default_weighted_regressor() -> BinnedBoosting:
    """:func:`default_regressor`'s booster on pre-binned covariates (:class:`BinnedBoosting`),
    the R-learner's outcome default: the same model, without scikit-learn's per-edge weighted
    binning that made each IPCW-weighted fit take seconds."""
    return BinnedBoosting(learning_rate=0.02, max_iter=300, max_depth=2, min_samples_leaf=200,
                          l2_regularization=10.0, validation_fraction=0.25, n_iter_no_change=10)


def previous_s_regressor() -> HistGradientBoostingRegressor:
    """The S-learner's default before the cross-validated one (kept for comparisons,
    ``benchmarks/defaults_imputed_learners.py``).

    Trees of up to 8 leaves with at least 50 rows, ``l2_regularization=1``,
    ``learning_rate=0.05``, up to 500 rounds, stopped after 20 rounds without improvement on a
    20% validation split. The S-learner sees the effect only as an interaction between the
    treatment indicators and ``X``; the depth-2, 200-row-leaf trees of
    :func:`default_regressor` never split on the treatment when the effect is small against
    the prognostic signal (SurvHTE-Bench scenario A: a CATE of exactly zero), so it gets
    larger trees; early stopping still limits their number.
    """
    return HistGradientBoostingRegressor(
        learning_rate=0.05,
        max_iter=500,
        max_leaf_nodes=8,
        min_samples_leaf=50,
        l2_regularization=1.0,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=20,
    )
