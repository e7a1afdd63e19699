"""Heterogeneity tools: doubly robust scores, BLP, calibration test, RATE, groups, importance."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.linear_model import LinearRegression

import survhte
import survhte.plotting
import survhte.simulate
from survhte import (
    CausalSurvivalForest,
    TLearner,
    best_linear_projection,
    cate_group_effects,
    cross_fitted_cate,
    doubly_robust_scores,
    get_scores,
    rank_average_treatment_effect,
    test_calibration,
    variable_importance,
)
from survhte.inference import AIPCW
from survhte.simulate import survhte_bench
from tests._arms import exponential_arms

# A fixed, fast base model: these tests need a fitted estimator's estimand, not a good CATE.
LINEAR = LinearRegression()


@pytest.fixture(scope="module")
def rct():
    return survhte_bench("RCT-50", "A", n=800, random_state=0)


def test_scores_are_the_aipcw_scores_and_average_to_its_ate(rct):
    psi = doubly_robust_scores(rct.X, rct.y, rct.w, horizon=1.0, random_state=3)
    est = AIPCW(horizon=1.0, random_state=3).fit(rct.X, rct.y, rct.w)
    assert psi.shape == (800,)
    assert psi.mean() == pytest.approx(est.ate_, abs=1e-12)
    np.testing.assert_array_equal(psi, est.scores_)


def test_scores_of_three_levels_have_one_column_per_treated_level():
    X, y, w, _ = exponential_arms(900, seed=1)
    psi = doubly_robust_scores(X, y, w, horizon=2.0, n_folds=3, random_state=0)
    est = AIPCW(horizon=2.0, n_folds=3, random_state=0).fit(X, y, w)
    assert psi.shape == (900, 2)
    np.testing.assert_allclose(psi.mean(axis=0), est.ate_, atol=1e-12)


def test_get_scores_uses_the_estimators_target_horizon_and_control():
    X, y, w, _ = exponential_arms(900, seed=2)
    labels = np.array(["b", "a", "c"])[w]  # control "b" is not the first sorted label
    est = TLearner(LINEAR, target="survival", horizon=1.5, control="b", random_state=0).fit(
        X[:450], (y[0][:450], y[1][:450]), labels[:450])
    rows = slice(450, None)
    psi = get_scores(est, X[rows], (y[0][rows], y[1][rows]), labels[rows], n_folds=3,
                     random_state=0)
    ref = AIPCW("survival", 1.5, control="b", n_folds=3, random_state=0).fit(
        X[rows], (y[0][rows], y[1][rows]), labels[rows])
    assert psi.shape == (450, 2)
    np.testing.assert_allclose(psi, ref.scores_, atol=1e-12)
    assert list(est.classes_) == list(ref.classes_)


def test_get_scores_refuses_unfitted_non_estimators_and_other_levels(rct):
    with pytest.raises(TypeError, match="CATE estimator"):
        get_scores(object(), rct.X, rct.y, rct.w)
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        get_scores(TLearner(), rct.X, rct.y, rct.w)
    est = TLearner(LINEAR, horizon=1.0, random_state=0).fit(rct.X, rct.y, rct.w)
    with pytest.raises(ValueError, match=r"levels \[0, 1, 2\]"):
        get_scores(est, rct.X, rct.y, np.where(np.arange(800) < 100, 2, rct.w))
    with pytest.raises(ValueError, match="target"):
        doubly_robust_scores(rct.X, rct.y, rct.w, target="hazard")


def test_exported_from_the_top_level():
    assert survhte.doubly_robust_scores is doubly_robust_scores
    assert "get_scores" in survhte.__all__


# --- best linear projection -------------------------------------------------------------------

def test_blp_recovers_a_linear_cate_from_constructed_scores():
    # scores = 1 + 2 x0 - x1 + N(0, 1) noise: OLS coefficients within 4 HC3 SE (fails w.p.
    # ~6e-5 per coefficient for a valid SE); with no noise they are exact.
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(3000, 3)), columns=["age", "dose", "bmi"])
    tau = 1 + 2 * X["age"] - X["dose"]
    blp = best_linear_projection(tau + rng.normal(size=3000), X, covariates=["age", "dose"])
    assert list(blp.index) == ["intercept", "age", "dose"]
    assert list(blp.columns) == ["estimate", "std_error", "t_value", "p_value", "ci_lower",
                                 "ci_upper"]
    z = (blp["estimate"] - [1, 2, -1]) / blp["std_error"]
    assert np.all(np.abs(z) < 4)
    assert blp.loc["age", "p_value"] < 1e-10 and blp.loc["age", "ci_lower"] > 1
    exact = best_linear_projection(tau.to_numpy(), X, covariates=[0, 1])
    np.testing.assert_allclose(exact["estimate"], [1, 2, -1], atol=1e-10)
    # a covariate with no effect: its coefficient is noise, its p-value not tiny
    all_three = best_linear_projection(tau + rng.normal(size=3000), X)
    assert abs(all_three.loc["bmi", "t_value"]) < 4


def test_blp_of_the_intercept_alone_is_the_aipcw_ate(rct):
    est = TLearner(LINEAR, horizon=1.0, random_state=0).fit(rct.X, rct.y, rct.w)
    blp = best_linear_projection(est, rct.X, rct.y, rct.w, covariates=[], random_state=3)
    ate = AIPCW(horizon=1.0, random_state=3).fit(rct.X, rct.y, rct.w)
    assert blp.loc["intercept", "estimate"] == pytest.approx(ate.ate_, abs=1e-12)
    # HC3 with one regressor: sd * sqrt(n / (n - 1)) / sqrt(n) vs AIPCW's sd / sqrt(n)
    assert blp.loc["intercept", "std_error"] == pytest.approx(ate.std_error_, rel=2e-3)


def test_blp_with_three_levels_has_one_block_per_level():
    X, y, w, tau = exponential_arms(1500, seed=4)
    blp = best_linear_projection(None, X, y, w, covariates=[0], horizon=2.0, n_folds=3,
                                 random_state=0)
    assert blp.index.names == ["level", "term"]
    assert list(blp.index) == [("1", "intercept"), ("1", "x0"), ("2", "intercept"),
                               ("2", "x0")]
    # truth: slopes of the projection of the true tau on x0 (closed-form design)
    slopes = [np.polyfit(X[:, 0], tau[:, k], 1)[0] for k in range(2)]
    z = (blp.xs("x0", level="term")["estimate"].to_numpy() - slopes) \
        / blp.xs("x0", level="term")["std_error"].to_numpy()
    assert np.all(np.abs(z) < 4)


def test_blp_names_bad_covariates(rct):
    scores = np.zeros(800) + np.random.default_rng(0).normal(size=800)
    with pytest.raises(ValueError, match="'age' is not a column"):
        best_linear_projection(scores, rct.X, covariates=["age"])
    with pytest.raises(ValueError, match="position 7"):
        best_linear_projection(scores, rct.X, covariates=[7])
    with pytest.raises(ValueError, match="collinear"):
        best_linear_projection(scores, np.column_stack([rct.X, rct.X[:, 0]]))
    with pytest.raises(ValueError, match="scores has 10 rows but X has 800"):
        best_linear_projection(scores[:10], rct.X)


# --- calibration test -------------------------------------------------------------------------

def test_calibration_of_the_true_cate_gives_coefficients_near_one():
    # scores = tau + N(0, 1); predictions = tau: both coefficients are 1 within 4 SE.
    rng = np.random.default_rng(1)
    tau = 0.5 + rng.normal(size=4000)
    table = test_calibration(tau, scores=tau + rng.normal(size=4000))
    assert list(table.index) == ["mean_prediction", "differential_prediction"]
    assert list(table.columns) == ["estimate", "std_error", "t_value", "p_value"]
    assert np.all(np.abs(table["estimate"] - 1) < 4 * table["std_error"])
    assert table.loc["differential_prediction", "p_value"] < 1e-10
    # predictions unrelated to the scores: differential coefficient ~0, one-sided p not small
    noise = test_calibration(rng.normal(size=4000), scores=tau + rng.normal(size=4000))
    assert abs(noise.loc["differential_prediction", "t_value"]) < 4
    # one-sided: a negative t gives p > 1/2 (grf's conversion)
    flipped = test_calibration(-tau, scores=tau + rng.normal(size=4000))
    assert flipped.loc["differential_prediction", "p_value"] > 0.999


def test_calibration_detects_heterogeneity_of_a_held_out_forest():
    # nonlinear stress design (sd(tau) = 2.2 months of RMST): a 100-tree causal survival
    # forest fitted on half the rows, tested on the other half. Seeds 0-2 measured:
    # differential 0.87 / 1.79 / 2.47 with p < 1e-4, mean 0.97 / 1.07 / 0.82.
    d = survhte.simulate.stress_design("nonlinear", n=4000, random_state=0)
    fit, test = slice(0, 2000), slice(2000, None)
    est = CausalSurvivalForest(100, horizon=d.horizon, random_state=0).fit(
        d.X[fit], d.y[fit], d.w[fit])
    table = test_calibration(est, d.X[test], d.y[test], d.w[test], propensity_model=0.5,
                             random_state=0)
    assert table.loc["differential_prediction", "p_value"] < 0.001
    assert table.loc["mean_prediction", "estimate"] == pytest.approx(1, abs=0.5)


def test_calibration_with_three_levels_and_errors():
    X, y, w, tau = exponential_arms(1500, seed=5)
    table = test_calibration(tau, X, y, w, horizon=2.0, n_folds=3, random_state=0)
    assert table.index.names == ["level", "term"] and table.shape == (4, 4)
    with pytest.warns(UserWarning, match=r"constant \(1\).*NaN"):
        flat = test_calibration(np.ones(1500), scores=np.arange(1500.0))
    assert np.isnan(flat.loc["differential_prediction"]).all()
    assert flat.loc["mean_prediction", "estimate"] == pytest.approx(749.5)
    with pytest.raises(ValueError, match=r"do not match the scores' \(1500, 2\)"):
        test_calibration(tau[:, 0], X, y, w, horizon=2.0, n_folds=3)
    assert test_calibration.__test__ is False


# --- rank-weighted average treatment effect ---------------------------------------------------

def test_rate_and_toc_by_hand_with_and_without_ties():
    # scores sorted by priority: 3, 1, 2, 0; ATE 1.5; running means 3, 2, 2, 1.5; TOC 1.5, .5,
    # .5, 0: AUTOC = 2.5 / 4, QINI = (1/4 1.5 + 2/4 .5 + 3/4 .5) / 4 = 0.25. At q = 0.3
    # (1.2 rows): (3 + 0.2 * 1) / 1.2 - 1.5.
    scores = np.array([1.0, 3.0, 0.0, 2.0])
    priority = np.array([3.0, 4.0, 1.0, 2.0])
    auto = rank_average_treatment_effect(priority, scores=scores, q=[0.3, 0.5, 1.0],
                                         n_bootstrap=0)
    assert auto.estimate == pytest.approx(0.625, abs=1e-12)
    np.testing.assert_allclose(auto.toc["estimate"], [3.2 / 1.2 - 1.5, 0.5, 0.0], atol=1e-12)
    assert np.isnan(auto.std_error)
    qini = rank_average_treatment_effect(priority, scores=scores, target="QINI", n_bootstrap=0)
    assert qini.estimate == pytest.approx(0.25, abs=1e-12)
    # tied priorities: each tied group gets its mean score (grf): 2, 2, 1, 1 ->
    # TOC 0.5, 0.5, 1/6, 0
    tied = rank_average_treatment_effect(np.array([2, 2, 1, 1]), scores=np.array([3.0, 1, 2, 0]),
                                         n_bootstrap=0)
    assert tied.estimate == pytest.approx((0.5 + 0.5 + 1 / 6) / 4, abs=1e-12)


def test_rate_recovers_the_autoc_and_qini_of_a_linear_cate_and_zero_for_noise():
    # tau = 2x, x ~ U(0, 1), priority x: TOC(u) = 1 - u, AUTOC = 1/2, QINI = 1/6. A random
    # priority has RATE 0. Scores tau + N(0, 9) noise, n = 3000: within 4 bootstrap SE.
    rng = np.random.default_rng(2)
    x = rng.uniform(size=3000)
    psi = 2 * x + 3 * rng.normal(size=3000)
    for target, truth in [("AUTOC", 0.5), ("QINI", 1 / 6)]:
        rate = rank_average_treatment_effect(x, scores=psi, target=target, random_state=0)
        assert abs(rate.estimate - truth) < 4 * rate.std_error
        assert rate.confidence_interval()[0] > 0
    noise = rank_average_treatment_effect(rng.normal(size=3000), scores=psi, random_state=0)
    assert abs(noise.estimate) < 4 * noise.std_error
    np.testing.assert_allclose(
        rank_average_treatment_effect(x, scores=psi, n_bootstrap=0).toc["estimate"],
        1 - np.arange(1, 11) / 10, atol=0.35)  # TOC(q) = 1 - q, pointwise noise sd <= 0.2


def test_rate_half_sample_standard_error_matches_the_spread_over_draws():
    # 100 draws of n = 500: the mean half-sample SE is within 25% of the estimates' sd (the
    # sd's own relative error over 100 draws is ~7%; measured over 200 draws: sd 0.131 vs
    # mean SE 0.132).
    rng = np.random.default_rng(3)
    estimates, errors = [], []
    for seed in range(100):
        x = rng.uniform(size=500)
        rate = rank_average_treatment_effect(x, scores=2 * x + 3 * rng.normal(size=500),
                                             n_bootstrap=50, random_state=seed)
        estimates.append(rate.estimate)
        errors.append(rate.std_error)
    assert 0.75 < np.mean(errors) / np.std(estimates, ddof=1) < 1.33


def test_rate_of_the_true_cate_is_positive_on_a_heterogeneous_survival_design():
    d = survhte.simulate.stress_design("nonlinear", n=2000, random_state=1)
    tau = d.true_cate()
    rate = rank_average_treatment_effect(tau, d.X, d.y, d.w, horizon=d.horizon,
                                         propensity_model=0.5, random_state=0)
    assert rate.confidence_interval()[0] > 0 and rate.p_value < 0.01
    # an estimator: priorities are its predictions, the scores its estimand's
    est = CausalSurvivalForest(50, horizon=d.horizon, random_state=0).fit(
        d.X[:1000], d.y[:1000], d.w[:1000])
    held = rank_average_treatment_effect(est, d.X[1000:], d.y[1000:], d.w[1000:],
                                         target="QINI", propensity_model=0.5, random_state=0)
    assert held.target == "QINI" and held.toc.shape == (10, 3)
    ax = rate.plot()
    assert ax.get_xlabel().startswith("share treated first")


def test_rate_with_three_levels_and_errors():
    X, y, w, tau = exponential_arms(1500, seed=6)
    rate = rank_average_treatment_effect(tau, X, y, w, horizon=2.0, n_folds=3, n_bootstrap=20,
                                         random_state=0)
    assert rate.estimate.shape == (2,) and rate.levels == ["1", "2"]
    assert list(rate.toc.columns) == ["level", "q", "estimate", "std_error"]
    assert rate.summary().shape == (2, 5) and "level 2" in repr(rate)
    with pytest.raises(ValueError, match="'AUTOC' or 'QINI'"):
        rank_average_treatment_effect(tau, scores=tau, target="auc")
    with pytest.raises(ValueError, match="ending at 1"):
        rank_average_treatment_effect(tau, scores=tau, q=[0.5, 0.9])
    with pytest.raises(ValueError, match="n_bootstrap"):
        rank_average_treatment_effect(tau, scores=tau, n_bootstrap=-1)
    with pytest.raises(ValueError, match="do not match"):
        rank_average_treatment_effect(tau[:, 0], scores=tau)


# --- CATE-quantile groups and variable importance ---------------------------------------------

def test_group_effects_track_the_group_means_of_the_truth():
    # predictions = tau, scores = tau + N(0, 4): each group's DR mean within 4 SE of its mean
    # tau; groups of equal size from lowest to highest predictions.
    rng = np.random.default_rng(7)
    tau = rng.normal(size=5000)
    groups = cate_group_effects(tau, scores=tau + 2 * rng.normal(size=5000), n_groups=5)
    assert list(groups.index) == [1, 2, 3, 4, 5] and groups.index.name == "group"
    assert (groups["n"] == 1000).all()
    assert np.all(np.diff(groups["mean_prediction"]) > 0)
    assert np.all(np.abs(groups["estimate"] - groups["mean_prediction"])
                  < 4 * groups["std_error"])
    assert np.all(groups["ci_lower"] < groups["estimate"])
    # ties stay in one group
    tied = cate_group_effects(np.repeat([0.0, 1.0], [3000, 2000]), scores=tau, n_groups=5)
    assert list(tied["n"]) == [3000, 2000]
    ax = survhte.plotting.calibration_plot(groups)
    assert ax.get_xlabel() == "mean predicted CATE in the group"


def test_group_effects_with_three_levels_and_errors():
    X, y, w, tau = exponential_arms(1500, seed=8)
    groups = cate_group_effects(tau, X, y, w, n_groups=3, horizon=2.0, n_folds=3,
                                random_state=0)
    assert groups.index.names == ["level", "group"] and groups.shape == (6, 6)
    with pytest.raises(ValueError, match="n_groups"):
        cate_group_effects(tau, scores=tau, n_groups=0)
    with pytest.raises(ValueError, match="too few"):
        cate_group_effects(tau[:5], scores=tau[:5], n_groups=5)


def test_split_importance_of_a_hand_built_tree():
    # one tree: root splits on x2, its children on x0 and x1, then leaves. Depth counts
    # [0, 0, 1] and [1, 1, 0]; weights 1 and 1/4: ([0, 0, 1] + [.5, .5, 0] / 4) / 1.25.
    from types import SimpleNamespace

    from survhte.heterogeneity._importance import split_frequencies, split_importance
    tree = SimpleNamespace(n_trees=1, node_offset=np.array([0, 7]),
                           feature=np.array([2, 0, 1, -1, -1, -1, -1]),
                           left=np.array([1, 3, 5, 0, 0, 0, 0]))
    np.testing.assert_array_equal(split_frequencies(tree, 3, 4),
                                  [[0, 0, 1], [1, 1, 0], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(split_importance(tree, 3, 2.0, 2), [0.1, 0.1, 0.8])


class _LinearCATE(BaseEstimator):
    """A fitted stand-in whose CATE is 3 x0 + x1."""

    target, horizon_, classes_, n_features_in_ = "rmst", 1.0, np.array([0, 1]), 3

    def fit(self, X, y, w):
        return self

    def predict(self, X):
        X = np.asarray(X)
        return 3 * X[:, 0] + X[:, 1]


def test_variable_importance_of_forests_and_of_other_estimators(rct):
    # permutation: E[(tau - tau_perm)^2] = 2 b_j^2 var(x_j): shares 9/10, 1/10, 0 (the
    # permutation noise at n = 5000 is < 0.01)
    X = np.random.default_rng(9).uniform(size=(5000, 3))
    imp = variable_importance(_LinearCATE(), X, random_state=0)
    np.testing.assert_allclose(imp, [0.9, 0.1, 0.0], atol=0.02)
    assert list(imp.index) == ["x0", "x1", "x2"]
    with pytest.raises(ValueError, match="pass X"):
        variable_importance(_LinearCATE())
    csf = CausalSurvivalForest(20, horizon=1.0, random_state=0).fit(rct.X, rct.y, rct.w)
    forest = variable_importance(csf)
    assert forest.sum() == pytest.approx(1.0) and forest.shape == (rct.X.shape[1],)


class _MeanTime(BaseEstimator):
    """Predicts the mean observed time of the rows it was fitted on."""

    def __init__(self, control=None):
        self.control = control

    def fit(self, X, y, w):
        self.mean_ = float(np.mean(y[0]))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def test_cross_fitted_cate_predicts_each_row_from_the_other_folds(rct):
    time, event = rct.y["time"], rct.y["event"]
    out = cross_fitted_cate(_MeanTime(), rct.X, (time, event), rct.w, n_folds=4,
                            random_state=0)
    values = np.unique(out)
    assert values.size == 4  # one model per fold
    for value in values:
        fold = out == value
        assert value == pytest.approx(time[~fold].mean(), rel=1e-12)
    with pytest.raises(ValueError, match="n_folds must be >= 2"):
        cross_fitted_cate(_MeanTime(), rct.X, (time, event), rct.w, n_folds=1)
    # a forest: the out-of-bag predictions of one fit (rows that every tree saw: the mean)
    csf = CausalSurvivalForest(20, horizon=1.0, random_state=0)
    oob = csf.fit(rct.X, rct.y, rct.w).oob_prediction_
    held = cross_fitted_cate(csf, rct.X, rct.y, rct.w)
    seen = np.isfinite(oob)
    np.testing.assert_array_equal(held[seen], oob[seen])
    assert np.all(held[~seen] == pytest.approx(np.nanmean(oob)))
    # oob=False: the forest is cross-fitted like any estimator (a refit per fold)
    refits = cross_fitted_cate(csf, rct.X, rct.y, rct.w, n_folds=2, random_state=0, oob=False)
    assert refits.shape == oob.shape and np.all(np.isfinite(refits))
    assert not np.allclose(refits[seen], oob[seen])


def test_score_warnings_point_at_the_users_line():
    # the default horizon (the smallest arm's last time) leaves little follow-up: AIPCW's
    # censoring-floor warning is re-raised at this file's line, not inside survhte
    d = survhte.simulate.stress_design("null", n=600, random_state=0)
    with pytest.warns(UserWarning, match="censoring_floor") as record:
        doubly_robust_scores(d.X, d.y, d.w, random_state=0)
    assert record[0].filename == __file__
