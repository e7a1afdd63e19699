"""S-, T-, X-, matching, M- and R-learners: accuracy on exact truth, contract, errors."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression

from survhte import survival_model_learners
from survhte._validation import default_horizon
from survhte.datasets import load_rossi
from survhte.forest import SurvivalForest, UnsplitForestWarning
from survhte.simulate import survhte_bench
from survhte.survival import CoxPH, KaplanMeierSurvival, WeibullAFT
from survhte.survival_model_learners import (
    MatchingLearner,
    SurvivalMLearner,
    SurvivalRLearner,
    SurvivalSLearner,
    SurvivalTLearner,
    SurvivalXLearner,
    censored_forest_model,
)
from survhte.survival_model_learners._slearner import with_treatment

from ._arms import exponential_arms

LEARNERS = list(survival_model_learners.LEARNERS.values())


def _split(scenario, seed=0):
    """5,000 training and 2,500 test rows of RCT-50, horizon = median factual T (as the grf
    reference runs), capped at the default horizon where follow-up is shorter (scenario D)."""
    d = survhte_bench("RCT-50", scenario, n=7500, random_state=seed)
    train, test = slice(0, 5000), slice(5000, None)
    horizon = min(float(np.median(d.T[train])), default_horizon(d.time[train], d.w[train]))
    return d, train, test, horizon


def _mse_ratio(est, scenario):
    """CATE MSE on the test rows over the MSE of the best constant (the true ATE)."""
    d, train, test, horizon = _split(scenario)
    est.set_params(horizon=horizon, n_bootstrap=0).fit(d.X[train], d.y[train], d.w[train])
    truth = d.true_cate("rmst", horizon)[test]
    return np.mean((est.predict(d.X[test]) - truth) ** 2) / np.var(truth)


def test_tlearner_cox_recovers_truth_on_correctly_specified_scenario_a():
    d, train, test, horizon = _split("A")
    est = SurvivalTLearner(CoxPH(), horizon=horizon, n_bootstrap=0)
    est.fit(d.X[train], d.y[train], d.w[train])
    truth = d.true_cate("rmst", horizon)[test]
    rmse = np.sqrt(np.mean((est.predict(d.X[test]) - truth) ** 2))
    # h = 0.17, sd of the truth 0.0134; measured RMSE 0.0037 (MSE ratio 0.08 vs the constant);
    # seeds 0-4 gave 0.003-0.005, so 0.0067 (half the sd) leaves ~1.3x margin
    assert rmse < 0.5 * truth.std()


@pytest.mark.parametrize("scenario", ["A", "B", "D", "E"])
@pytest.mark.parametrize("learner", [SurvivalSLearner, SurvivalTLearner])
def test_s_and_t_learners_beat_the_constant_predictor(learner, scenario):
    # default base model (quadratic Cox); measured MSE ratios S / T:
    # A 0.09 / 0.15, B 0.44 / 0.45, D 0.66 / 0.37, E 0.42 / 0.30; 0.8 leaves margin for noise
    assert _mse_ratio(learner(), scenario) < 0.8


@pytest.mark.xfail(reason="Poisson event times (scenario C) defeat the Cox family: S 1.04 / "
                          "T 0.98 of the constant's MSE with the quadratic Cox model (T 0.796 "
                          "with the linear default of issue 18: at the 0.8 bound, passes "
                          "narrowly); the survival forest helps both (tests below; the "
                          "S-learner with treatment_interactions)", strict=False)
@pytest.mark.parametrize("learner", [SurvivalSLearner, SurvivalTLearner])
def test_s_and_t_learners_on_poisson_scenario_c(learner):
    assert _mse_ratio(learner(), "C") < 0.8


def test_tlearner_on_the_survival_forest_handles_poisson_scenario_c():
    # SurvivalForest(200, min_node_size=50) per arm: measured 0.44 / 0.39 / 0.38 of the
    # constant's MSE with learner seeds 0 / 1 / 2; 0.8 (the bar above) leaves ~1.8x margin.
    # The S-learner on the same forest stays at 1.18-1.32: a forest splits on the treatment
    # column like any other, so its effect is diluted (Kunzel et al. 2019's S-learner bias),
    # unless it gets the treatment interactions (test_s_and_t_learners_on_the_censored_forest).
    est = SurvivalTLearner(base_model=SurvivalForest(200, min_node_size=50), random_state=0)
    assert _mse_ratio(est, "C") < 0.8


@pytest.mark.parametrize("scenario", list("ABCDE"))
def test_s_and_t_learners_on_the_censored_forest_beat_the_constant(scenario):
    """The survival forest as base (``censored_forest_model``; the S-learner with treatment
    interactions): CATE MSE below the best constant's, averaged over five generated datasets
    (single datasets vary: 0.27-1.52 on D and E). Measured means S / T: A 0.37 / 0.28,
    B 0.34 / 0.27, C 0.44 / 0.39, D 0.57 / 0.65, E 0.83 / 0.88; the bound is the criterion
    itself. On D (9% events) grf's default alpha = 0.05 lets no tree split: the T-learner on
    SurvivalForest() is at 2.34 (1.32-3.65)."""
    ratios = {"S": [], "T": [], "grf": []}
    for seed in range(5):
        d, train, test, horizon = _split(scenario, seed)
        truth = d.true_cate("rmst", horizon)[test]
        learners = {
            "S": SurvivalSLearner(censored_forest_model(200, random_state=0),
                                  treatment_interactions=True),
            "T": SurvivalTLearner(censored_forest_model(200, random_state=0)),
        }
        if scenario == "D":
            learners["grf"] = SurvivalTLearner(SurvivalForest(200, random_state=0))
        for name, est in learners.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnsplitForestWarning)
                # calibrate=False: the measured means above are of the forest base model
                # itself (calibration would refit the forest on 5 folds: 6x the CI time).
                est.set_params(horizon=horizon, n_bootstrap=0, random_state=0,
                               calibrate=False)
                est.fit(d.X[train], d.y[train], d.w[train])
            ratios[name].append(np.mean((est.predict(d.X[test]) - truth) ** 2) / np.var(truth))
    assert np.mean(ratios["S"]) < 1.0 and np.mean(ratios["T"]) < 1.0
    if scenario == "D":
        assert np.mean(ratios["grf"]) > 1.0


def test_xlearner_beats_the_constant_predictor_on_scenario_a():
    # measured 0.21 (seed 0); the IPCW complete-case step adds noise over the T-learner
    assert _mse_ratio(SurvivalXLearner(random_state=0), "A") < 0.6


@pytest.fixture(scope="module")
def rossi():
    return load_rossi()


@pytest.mark.parametrize("learner", LEARNERS)
@pytest.mark.parametrize("target", ["rmst", "survival"])
def test_fit_predict_ate_and_contract(learner, target, rossi):
    est = learner(target=target, horizon=40.0, n_bootstrap=3, random_state=0)
    with pytest.raises(NotFittedError):
        est.predict(rossi.X)
    est.fit(rossi.X, rossi.y, rossi.w)
    tau = est.predict(rossi.X)
    assert tau.shape == (432,) and np.all(np.isfinite(tau))
    if target == "survival":
        assert np.all(np.abs(tau) <= 1 + 1e-12) or learner in (SurvivalMLearner, SurvivalRLearner)
    assert est.ate() == pytest.approx(tau.mean())
    lower, upper = est.ate_interval()
    assert lower <= upper
    copy = clone(est)
    assert copy.get_params() == est.get_params() and not hasattr(copy, "horizon_")
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(rossi.X[:20]), tau[:20])
    again = clone(est).fit(rossi.X, rossi.y, rossi.w).predict(rossi.X)
    np.testing.assert_allclose(again, tau)  # random_state makes it reproducible


def test_slearner_curves_multi_arm_and_weibull_base(rossi):
    rng = np.random.default_rng(0)
    w = rng.integers(0, 3, rossi.time.size)
    est = SurvivalSLearner(WeibullAFT(), horizon=30.0).fit(rossi.X, rossi.y, w)
    tau = est.predict(rossi.X)
    assert tau.shape == (432, 2)
    curves = [est.predict_survival(rossi.X[:5], level, [0.0, 10.0, 30.0]) for level in (0, 2)]
    assert np.all(np.diff(curves[0], axis=1) <= 0)
    np.testing.assert_allclose(est.effect(rossi.X[:5], 0, 2), tau[:5, 1])
    # The uncalibrated CATE is the difference of the curves (calibrate=True scales it about
    # its mean: tests/test_survival_calibration.py).
    surv = SurvivalSLearner(WeibullAFT(), target="survival", horizon=30.0,
                            calibrate=False).fit(rossi.X, rossi.y, w)
    np.testing.assert_allclose(surv.predict(rossi.X[:5])[:, 1], curves[1][:, 2] - curves[0][:, 2])


def test_matching_learner_definitions(rossi):
    X = rossi.X.to_numpy()
    treated = rossi.w == 1
    for match_on in ("outcomes", "covariates"):
        est = MatchingLearner(CoxPH(), n_neighbors=3, horizon=40.0,
                              match_on=match_on).fit(X, rossi.y, rossi.w)
        space = est._space(X)
        if match_on == "covariates":  # SurvHTE-Bench's: Euclidean distance on X
            np.testing.assert_array_equal(space, X)
        else:  # each arm's predicted outcome, scaled by its sd over the training rows
            outcomes = np.column_stack([est._outcome(X, 0), est._outcome(X, 1)])
            np.testing.assert_allclose(space, outcomes / outcomes.std(axis=0))
        # SurvHTE-Bench's factual version: own arm from the model, the other arm by matching
        factual = est.predict(X, rossi.w)
        np.testing.assert_allclose(factual[treated], est._outcome(X[treated], 1)
                                   - est._matched(space[treated], 0))
        np.testing.assert_allclose(factual[~treated], est._matched(space[~treated], 1)
                                   - est._outcome(X[~treated], 0))
        index = est.neighbors_[0].kneighbors(space[:1], return_distance=False)[0]
        assert est._matched(space[:1], 0)[0] == pytest.approx(est.arm_values_[0][index].mean())
        with pytest.raises(ValueError, match=r"w contains level\(s\) \[7\]"):
            est.predict(X, np.full(432, 7))


def test_s_learner_interaction_columns_are_indicator_times_covariates(rossi):
    X = np.arange(6.0).reshape(3, 2)
    design = with_treatment(X, np.array([0, 1, 2]), 3, interactions=True)
    expected = np.column_stack([X, [[0, 0], [1, 0], [0, 1]], [[0, 0], [2, 3], [0, 0]],
                                [[0, 0], [0, 0], [4, 5]]])
    np.testing.assert_array_equal(design, expected)
    est = SurvivalSLearner(treatment_interactions=True, horizon=40.0, n_bootstrap=0)
    est.fit(rossi.X, rossi.y, rossi.w)
    assert est.model_.n_features_in_ == 2 * rossi.X.shape[1] + 1
    assert clone(est).get_params()["treatment_interactions"] is True


def test_learner_errors_name_the_argument(rossi):
    # hyperparameters are checked declaratively (_parameter_constraints) at fit
    cases = [
        (SurvivalSLearner(base_model="cox"), "base_model of SurvivalSLearner must be None or "
         r"an object with fit\(\) and predict_survival\(\); got 'cox'"),
        (SurvivalSLearner(treatment_interactions="yes"),
         "treatment_interactions of SurvivalSLearner must be True or False"),
        (SurvivalRLearner(n_folds=0), r"n_folds of SurvivalRLearner must be an integer in \[1, "),
        (SurvivalMLearner(propensity_model=1.5), "propensity_model of SurvivalMLearner must be"),
        (SurvivalMLearner(propensity_model=LinearRegression()),
         r"propensity_model of SurvivalMLearner .* an object with fit\(\) and predict_proba"),
        (SurvivalXLearner(propensity_clip=0.5), "propensity_clip of SurvivalXLearner must be"),
        (SurvivalXLearner(effect_model="forest"), "effect_model of SurvivalXLearner must be"),
        (SurvivalRLearner(censoring_model="km"), "censoring_model of SurvivalRLearner must be"),
        (MatchingLearner(n_neighbors=0), r"n_neighbors of MatchingLearner must be an integer in "
                                         r"\[1, "),
    ]
    for est, message in cases:
        with pytest.raises(ValueError, match=message):
            est.fit(rossi.X, rossi.y, rossi.w)
    est = SurvivalMLearner(censoring_model=KaplanMeierSurvival(), propensity_model=0.5,
                           effect_model=LinearRegression(), horizon=52.0)
    assert est.fit(rossi.X, rossi.y, rossi.w).predict(rossi.X).shape == (432,)


# K treatment levels ---------------------------------------------------------------------------

#: The four learners that were binary only before issue #17.
MULTI = [SurvivalXLearner, SurvivalMLearner, SurvivalRLearner, MatchingLearner]


@pytest.mark.parametrize("learner", MULTI)
def test_three_levels_beat_predicting_no_effect_on_each_level(learner):
    """Three arms with exponential times and closed-form RMST effects (tests/_arms.py:
    confounded assignment, Exp(0.25) censoring), h = 2, n = 2000. Effects vs control: level 1
    mean 0.63 (sd 0.15), level 2 mean 0.09 (sd 0.18, changes sign with x_1).

    CATE MSE / MSE of predicting 0, measured on seeds 0-9 (level 1 / level 2, mean and max):
    X 0.018 / 0.134 (max 0.034 / 0.364), M 0.033 / 0.276 (0.057 / 0.626),
    R 0.024 / 0.164 (0.039 / 0.453), matching 0.016 / 0.162 (0.038 / 0.316). The second
    stage is a linear regression: the default forest (leaves of 100 rows) has about three
    leaves in an arm of 660 rows and flattens level 2's sign change (X: 0.86 at n = 1000).
    The bound 0.8 is 1.3x the worst of the 40 seeded fits; seed 0 here."""
    X, y, w, truth = exponential_arms(2000, seed=0)
    extra = {} if learner is MatchingLearner else {"effect_model": LinearRegression()}
    est = learner(horizon=2.0, n_bootstrap=0, random_state=0, **extra).fit(X, y, w)
    tau = est.predict(X)
    assert tau.shape == (2000, 2) and est.classes_.tolist() == [0, 1, 2]
    ratio = np.mean((tau - truth) ** 2, axis=0) / np.mean(truth**2, axis=0)
    assert np.all(ratio < 0.8), ratio
    np.testing.assert_allclose(est.effect(X[:5], 1, 2), tau[:5, 1] - tau[:5, 0])
    np.testing.assert_allclose(est.effect(X[:5], 0, 2), tau[:5, 1])


@pytest.mark.parametrize("learner", LEARNERS)
@pytest.mark.parametrize("target", ["rmst", "survival"])
def test_three_levels_intervals_and_averages(learner, target):
    """Every learner's bootstrap predict_interval, ate(target_population) and ate_interval at
    K = 3 levels (shapes, order, the plug-in average over the population's rows)."""
    X, y, w, _ = exponential_arms(450, seed=1)
    est = learner(target=target, horizon=2.0, n_bootstrap=3, random_state=0).fit(X, y, w)
    tau = est.predict(X)
    lower, upper = est.predict_interval(X[:7], alpha=0.1)
    assert lower.shape == upper.shape == (7, 2) and np.all(lower <= upper)
    for population, rows in (("all", np.ones((450, 2), bool)),
                             ("treated", np.column_stack([w == 1, w == 2])),
                             ("control", np.column_stack([w == 0, w == 0]))):
        ate = est.ate(target_population=population)
        np.testing.assert_allclose(ate, [tau[rows[:, k], k].mean() for k in range(2)])
        low, high = est.ate_interval(0.1, target_population=population)
        assert low.shape == high.shape == (2,) and np.all(low <= high)
    if learner is MatchingLearner:
        factual = est.predict(X, w)
        own = np.column_stack([est._outcome(X, code) for code in range(3)])
        # a row of level 2: its own arm from the model, the control matched
        row = int(np.flatnonzero(w == 2)[0])
        assert factual[row, 1] == pytest.approx(
            own[row, 2] - est._matched(est._space(X[[row]]), 0)[0])
        # a row of level 1: both arms of the (0, 2) contrast matched
        row = int(np.flatnonzero(w == 1)[0])
        assert factual[row, 1] == pytest.approx(tau[row, 1])


#: Predictions of the binary learners at commit 172d187 (before K levels), first four rows of
#: survhte_bench("OBS-CPS", "A", n=400, random_state=3), h = its median time, default models,
#: random_state=0. Bitwise equal after the change (checked with a worktree of 172d187 on 68
#: arrays, max abs diff 0.0); compared at 1e-12 here so that another BLAS may run it.
BINARY_172D187 = {
    ("SurvivalXLearner", "rmst"): [0.0009454136651329652, 0.0005204326040987767,
                                   0.0011859731508299153, 0.0019478693169311407],
    ("SurvivalXLearner", "survival"): [0.03897510447236473, 0.035324142408306426,
                                       0.041041722580690936, 0.047587082490184084],
    ("SurvivalMLearner", "rmst"): [0.011258997651761202, 0.02097006831319277,
                                   0.001895513663907891, -0.0003249825394556926],
    ("SurvivalMLearner", "survival"): [0.12593548494395437, 0.13545765634068022,
                                       0.07741367606821753, -0.0011835950418790952],
    ("SurvivalRLearner", "rmst"): [0.005823961335149402, 0.018017775112963253,
                                   0.0022493705284165853, -0.001847832917661988],
    ("SurvivalRLearner", "survival"): [0.06418060684657272, 0.12826887066814166,
                                       0.040338235518270246, -0.006884697998563383],
    ("MatchingLearner", "rmst"): [0.010386048593299266, -0.005036387357739314,
                                  0.0034468822399820603, -0.009504295531489612],
    ("MatchingLearner", "survival"): [0.1007248065417714, -0.048785494280999764,
                                      0.03408057373120299, -0.08138870912299129],
}


@pytest.mark.parametrize("learner", MULTI)
@pytest.mark.parametrize("target", ["rmst", "survival"])
def test_one_treated_level_equals_the_binary_learner(learner, target):
    # pinned with the defaults of 172d187 (quadratic Cox base, unshrunk forest, matching on
    # the covariates), passed
    # explicitly since issue 18 changed the defaults; the M-learner's pins are those of its
    # centred modified outcome (issue 18), with that forest
    d = survhte_bench("OBS-CPS", "A", n=400, random_state=3)
    est = learner(target=target, horizon=float(np.median(d.time)), n_bootstrap=0,
                  random_state=0)
    params = est.get_params()
    if "base_model" in params:
        est.set_params(base_model=survival_model_learners.legacy_base_model())
    if "effect_model" in params:
        est.set_params(effect_model=survival_model_learners.legacy_effect_model())
    if "match_on" in params:  # SurvHTE-Bench's matching, the default before issue 18
        est.set_params(match_on="covariates")
    est.fit(d.X, d.y, d.w)
    tau = est.predict(d.X[:4])
    assert tau.shape == (4,)
    np.testing.assert_allclose(tau, BINARY_172D187[learner.__name__, target], rtol=0,
                               atol=1e-12)


# Tiny arms and overlap ------------------------------------------------------------------------

@pytest.mark.parametrize("learner", [SurvivalXLearner, SurvivalMLearner, SurvivalRLearner])
def test_an_arm_smaller_than_n_folds_is_named(learner):
    """Five rows, two treated: scikit-learn's "n_splits=5 cannot be greater than the number
    of members in each class" before; now the arm, its rows and the remedy."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 2))
    time, event = np.array([0.5, 0.4, 0.3, 0.6, 0.2]), np.ones(5, bool)
    with pytest.raises(ValueError, match=r"treatment arm 'treated' has 2 row\(s\), fewer "
                                         r"than n_folds=5 cross-fitting folds"):
        learner(n_bootstrap=0, control="control").fit(
            X, (time, event), np.array(["control", "treated"] * 2 + ["control"]))


@pytest.mark.parametrize("learner", LEARNERS)
def test_an_arm_without_events_before_the_horizon_is_named(learner):
    """The treated arm's events all come after the horizon: every learner names that arm, its
    rows and events (before: S, T, X, R and matching checked only for no events at all, and the
    M-learner fitted an arm whose curve before h is unknown)."""
    X, (time, event), w, _ = exponential_arms(300, seed=2)
    w = (w == 2).astype(int)
    time = np.where(w == 1, np.maximum(time, 1.5), time)
    n_rows, n_events = int(np.sum(w == 1)), int(np.sum(event[w == 1]))
    message = (rf"treatment arm 1 has no event up to horizon=1 \({n_rows} row\(s\), "
               rf"{n_events} event\(s\), all after it")
    with pytest.raises(ValueError, match=message):
        learner(horizon=1.0, n_bootstrap=0).fit(X, (time, event), w)


@pytest.mark.parametrize("learner", LEARNERS)
def test_an_arm_with_few_events_before_the_horizon_warns_with_numbers(learner):
    """Three treated events before the horizon (fewer than MIN_ARM_EVENTS = 10): a warning
    naming the arm, its events and rows, at the user's line (before: no warning)."""
    X, (time, event), w, _ = exponential_arms(300, seed=2)
    w = (w == 2).astype(int)
    early = np.flatnonzero((w == 1) & event & (time <= 1.0))[3:]
    time = time.copy()
    time[early] = 1.5  # the treated arm keeps 3 events up to h = 1
    with pytest.warns(UserWarning, match=rf"treatment arm 1 has only 3 event\(s\) up to "
                                         rf"horizon=1 among {np.sum(w == 1)} row\(s\)") as caught:
        learner(horizon=1.0, n_bootstrap=0).fit(X, (time, event), w)
    assert __file__ in {record.filename for record in caught}


@pytest.mark.parametrize("learner", [SurvivalXLearner, SurvivalMLearner, SurvivalRLearner])
@pytest.mark.parametrize("levels", [2, 3])
def test_poor_overlap_warns_with_numbers_at_the_users_line(learner, levels):
    """A propensity model that separates the arms (assignment a steep logistic of x_1):
    the one clipping rule's warning, with the share and count of rows clipped, attributed to
    this file (the X-learner clips where it predicts, the M- and R-learners in fit)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(400, 2))
    w = (rng.uniform(size=400) < 1 / (1 + np.exp(-30 * (X[:, 0] - 0.5)))).astype(int)
    if levels == 3:
        w = np.where((w == 1) & (rng.uniform(size=400) < 0.5), 2, w)
    T, C = rng.exponential(1.0, 400), rng.exponential(3.0, 400)
    est = learner(propensity_model=LogisticRegression(C=100.0), horizon=1.0, n_bootstrap=0,
                  random_state=0)
    with pytest.warns(UserWarning, match=r"propensity clipped to \[0.01, 0.99\] for "
                                         r"\d+\.\d% of the rows \(\d+\): poor overlap") as caught:
        est.fit(X, (np.minimum(T, C), T <= C), w).predict(X)
    assert {record.filename for record in caught} == {__file__}
