"""Default base models and second stages of the survival-model learners (issue 18):
SelectedSurvivalModel, ShrunkEffectRegressor, and the learners' defaults on a stress design."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression

from survhte.simulate import stress_design
from survhte.survival import CoxPH, SelectedSurvivalModel, WeibullAFT, rmst
from survhte.survival_model_learners import (
    LEARNERS,
    ShrunkEffectRegressor,
    SurvivalTLearner,
    default_arm_model,
    default_base_model,
    default_outcome_model,
)


def _weibull_ph(n, seed, nonlinear):
    """Weibull proportional hazards data, shape 1.5, linear or strongly nonlinear log-hazard in
    two of four uniform covariates; ~30% censored (uniform administrative censoring)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 4))
    eta = (2.0 * np.sin(2.0 * X[:, 0]) + 1.5 * (X[:, 1] ** 2 - 1.3) if nonlinear
           else 0.8 * X[:, 0] - 0.6 * X[:, 1])
    t = (-np.log(rng.random(n)) / np.exp(eta)) ** (1 / 1.5)
    c = rng.uniform(0.5, 3.0, size=n)
    return X, np.minimum(t, c), t <= c


def test_selector_picks_a_linear_model_on_linear_weibull_data():
    X, time, event = _weibull_ph(1500, 0, nonlinear=False)
    model = SelectedSurvivalModel(horizon=1.0, random_state=0).fit(X, time, event)
    # the truth is a Weibull PH model with a linear predictor: Cox and Weibull AFT are both
    # correctly specified, the quadratic Cox models only add variance. Measured on seeds 0-7
    # (n = 1500): a linear model 8 times of 8 (Weibull AFT 7, cox_0.01 1, this seed)
    assert not model.best_name_.startswith("quadratic"), model.cv_losses_
    assert set(model.cv_losses_) >= {"cox_0.01", "weibull", "quadratic_cox_0.05"}


def test_selector_picks_the_quadratic_model_on_nonlinear_data():
    X, time, event = _weibull_ph(1500, 0, nonlinear=True)
    model = SelectedSurvivalModel(horizon=1.0, random_state=0).fit(X, time, event)
    assert model.best_name_.startswith("quadratic"), model.cv_losses_
    # and its loss is clearly below the linear models' (measured 0.137 vs 0.211 for the best
    # linear one, standard errors 0.003; quadratic_cox_0.05 on seeds 0-7, 8 of 8)
    linear = min(v for k, v in model.cv_losses_.items() if not k.startswith("quadratic"))
    assert model.cv_losses_[model.best_name_] < 0.9 * linear


def test_selector_is_a_survival_model_and_delegates_to_the_chosen_candidate():
    X, time, event = _weibull_ph(600, 1, nonlinear=False)
    candidates = [("cox", CoxPH()), ("weibull", WeibullAFT())]
    model = SelectedSurvivalModel(candidates, horizon=1.0, random_state=0).fit(X, time, event)
    best = dict(candidates)[model.best_name_]
    reference = clone(best).fit(X, time, event)
    np.testing.assert_allclose(model.predict_survival(X[:5], [0.5, 1.0]),
                               reference.predict_survival(X[:5], [0.5, 1.0]))
    np.testing.assert_allclose(rmst(model, X[:5], 1.0), rmst(reference, X[:5], 1.0))
    assert hasattr(model, "unique_times_") == (model.best_name_ == "cox")
    model.refit_candidate("weibull", X, time, event)
    assert model.best_name_ == "weibull" and not hasattr(model, "unique_times_")
    # clone / get_params round trip (a scikit-learn estimator with nested candidates)
    assert clone(model).get_params()["candidates"][0][0] == "cox"


def test_selector_rejects_bad_input():
    X, time, event = _weibull_ph(200, 2, nonlinear=False)
    with pytest.raises(ValueError, match="candidates"):
        SelectedSurvivalModel("cubic").fit(X, time, event)
    with pytest.raises(TypeError, match="name, survival model"):
        SelectedSurvivalModel([CoxPH()]).fit(X, time, event)
    with pytest.raises(TypeError, match="predict_survival"):
        SelectedSurvivalModel([("ols", LinearRegression())]).fit(X, time, event)
    with pytest.raises(ValueError, match="unique"):
        SelectedSurvivalModel([("a", CoxPH()), ("a", WeibullAFT())]).fit(X, time, event)
    with pytest.raises(ValueError, match="at least one"):
        SelectedSurvivalModel([]).fit(X, time, event)
    with pytest.raises(ValueError, match="n_folds"):
        SelectedSurvivalModel(n_folds=1).fit(X, time, event)
    with pytest.raises(ValueError, match="events"):
        SelectedSurvivalModel().fit(X, time, np.zeros(time.size, bool) | (np.arange(200) < 2))
    with pytest.raises(ValueError, match="rows"):
        SelectedSurvivalModel().fit(X[:-1], time, event)
    model = SelectedSurvivalModel(random_state=0).fit(X, time, event)
    with pytest.raises(ValueError, match="candidates"):
        model.refit_candidate("forest", X, time, event)


def test_learner_defaults_are_selected_models_at_the_learner_horizon():
    d = stress_design("nonlinear", n=600, random_state=0)
    est = SurvivalTLearner(n_bootstrap=0, random_state=0, horizon=20.0).fit(d.X, d.y, d.w)
    # one candidate for both arms, selected at the learner's horizon
    assert est.models_[0].best_name_ == est.models_[1].best_name_
    assert est.models_[0].horizon_ == 20.0
    assert default_arm_model().candidates == "linear"
    assert default_base_model().candidates == "quadratic"
    assert default_outcome_model().candidates == "all"


def test_shrunk_regressor_falls_back_to_the_mean_on_noise_and_keeps_signal():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3))
    noise = ShrunkEffectRegressor().fit(X, 2.0 + rng.normal(scale=5.0, size=2000))
    # pure noise: the held-out slope is ~0 (measured b = -0.33, s = 0.46; applied
    # b + 1.28 s = 0.26), so the predictions' spread is a quarter of the forest's
    assert noise.slope_ < 0.5
    assert np.ptp(noise.predict(X)) < 0.5 * np.ptp(noise.regressor_.predict(X))
    signal = ShrunkEffectRegressor().fit(X, 2.0 * X[:, 0] + rng.normal(size=2000))
    # strong signal: slope >= 1 (measured b = 1.73, s = 0.03, clipped to 1: the forests on
    # two thirds of the rows are smoother than the one on all rows)
    assert signal.slope_ > 0.8
    with pytest.raises(ValueError, match="sample_weight"):
        ShrunkEffectRegressor().fit(X, X[:, 0], sample_weight=-np.ones(2000))
    with pytest.raises(ValueError, match="y must have shape"):
        ShrunkEffectRegressor().fit(X, X[:100, 0])


@pytest.mark.parametrize("name", ["S", "T", "X", "M", "R", "Matching"])
def test_default_learners_beat_the_constant_on_a_small_nonlinear_stress_design(name):
    d = stress_design("nonlinear", n=2000, random_state=1)
    est = LEARNERS[name](n_bootstrap=0, random_state=0, horizon=d.horizon).fit(d.X, d.y, d.w)
    truth = d.true_cate("rmst")
    ratio = np.sqrt(np.mean((est.predict(d.X) - truth) ** 2)) / truth.std()
    # RMSE / sd(tau) < 1 beats predicting the true ATE for everyone. Measured at n = 2000,
    # seed 1, defaults (before issue 18 in brackets): S 0.76 (0.70), T 0.72 (1.25), X 0.73
    # (0.72), M 0.76 (the uncentred M-learner: > 1 on the n = 4000 design), R 0.70 (0.78),
    # matching 0.77 (0.97, on the covariates); 0.95 leaves >= 0.15 for another BLAS or
    # scikit-learn version
    assert ratio < 0.95, ratio
