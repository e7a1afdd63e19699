"""survhte.metrics: CATE losses on held-out censored rows, their scikit-learn scorers and every
estimator's ``score`` (GridSearchCV / cross_val_score with metadata routing), and the survival
models' IPCW concordance and Brier scores against scikit-survival and hand-computed values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from survhte import (
    AIPCW,
    CoxPH,
    KaplanMeierSurvival,
    SurvivalForest,
    SurvivalTLearner,
    WeibullAFT,
    get_scores,
)
from survhte.metrics import (
    brier_score,
    cate_losses,
    concordance_index_ipcw,
    dr_loss,
    integrated_brier_score,
    make_dr_scorer,
    make_r_scorer,
    r_loss,
)

from ._arms import exponential_arms

HORIZON = 2.0


def ph_design(n: int, seed: int) -> tuple:
    """Binary randomised trial, exponential event times, proportional hazards within each arm
    (so a Cox T-learner is correct) and a strong effect in ``x_2``; closed-form RMST truth.

    ``rate_w(x) = exp(0.2 + 0.5 x_1 - 1.2 w x_2)``, ``x ~ U(-1, 1)^3``, censoring ``Exp(1/4)``;
    ``sd(tau) ~ 0.35`` at ``h = 2``.
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 3))
    w = rng.integers(0, 2, n)
    rate0 = np.exp(0.2 + 0.5 * X[:, 0])
    rate1 = rate0 * np.exp(-1.2 * X[:, 1])
    T = rng.exponential(1 / np.where(w == 1, rate1, rate0))
    C = rng.exponential(4.0, n)
    y = np.rec.fromarrays([T <= C, np.minimum(T, C)], names="event,time")

    def rmst(rate: np.ndarray) -> np.ndarray:
        return (1 - np.exp(-rate * HORIZON)) / rate

    return X, y, w, rmst(rate1) - rmst(rate0)


def learner(base: object) -> SurvivalTLearner:
    # Seeded: the calibration's folds are random otherwise, and the tests compare fits.
    return SurvivalTLearner(base_model=base, horizon=HORIZON, n_bootstrap=0, random_state=0)


@pytest.fixture(scope="module")
def fitted() -> dict:
    """A Cox T-learner (correct) and a Kaplan-Meier T-learner (a constant CATE) fitted on one
    half of ph_design, and the other half to score."""
    X, y, w, tau = ph_design(1600, 0)
    train, test = slice(0, 800), slice(800, 1600)
    return {
        "cox": learner(CoxPH()).fit(X[train], y[train], w[train]),
        "km": learner(KaplanMeierSurvival()).fit(X[train], y[train], w[train]),
        "test": (X[test], y[test], w[test]),
        "tau": tau[test],
    }


class Oracle(BaseEstimator):
    """A 'fitted estimator' predicting the true CATE (or another given function of ``X``)."""

    target = "rmst"

    def fit(self, effect, classes):
        self.effect_, self.classes_, self.horizon_ = effect, np.asarray(classes), HORIZON
        return self

    def predict(self, X):
        return self.effect_(X)


# ----------------------------------------------------------------------------- the losses


def test_dr_loss_is_the_mean_squared_gap_to_the_doubly_robust_scores(fitted):
    X, y, w = fitted["test"]
    est = fitted["cox"]
    scores = get_scores(est, X, y, w, random_state=0)
    expected = np.mean((scores - est.predict(X)) ** 2)
    assert dr_loss(est, X, y, w) == pytest.approx(expected, rel=1e-12)
    assert est.score(X, y, w) == pytest.approx(-expected, rel=1e-12)


def test_r_loss_matches_the_aipcw_nuisances_by_hand(fitted):
    X, y, w = fitted["test"]
    est = fitted["cox"]
    model = AIPCW(horizon=HORIZON, random_state=0).fit(X, y, w)
    e = model.propensity_
    m = (1 - e) * model.arm_outcome_means_[:, 0] + e * model.arm_outcome_means_[:, 1]
    expected = np.mean((model.transformed_outcome_ - m - (w - e) * est.predict(X)) ** 2)
    assert r_loss(est, X, y, w) == pytest.approx(expected, rel=1e-12)


def test_cate_losses_table_and_improvement_over_the_constant(fitted):
    X, y, w = fitted["test"]
    cox = cate_losses(fitted["cox"], X, y, w)
    km = cate_losses(fitted["km"], X, y, w)
    assert list(cox.index) == ["dr", "r"]
    assert list(cox.columns) == ["loss", "constant_loss", "improvement", "std_error"]
    np.testing.assert_allclose(cox["improvement"], cox["constant_loss"] - cox["loss"],
                               rtol=1e-12)
    # The constant's loss depends on the rows only (not on the estimator).
    np.testing.assert_allclose(cox["constant_loss"], km["constant_loss"], rtol=1e-12)
    # DR constant: the mean score, so its loss is the scores' variance.
    scores = get_scores(fitted["cox"], X, y, w, random_state=0)
    assert cox.loc["dr", "constant_loss"] == pytest.approx(np.var(scores), rel=1e-12)
    # Both constants minimise their loss among constants: a constant CATE (KM per arm) never
    # improves on them (exact, not statistical).
    assert (km["improvement"] <= 1e-12).all()
    # The correct Cox T-learner beats the constant by several standard errors (measured: DR
    # improvement 0.185, SE 0.037; over seeds 0-3 of ph_design 0.07-0.18, SE ~0.03).
    assert (cox["improvement"] > 3 * cox["std_error"]).all()
    # DR improvement estimates MSE(constant) - MSE(estimator) = var(tau) - MSE on these rows
    # (0.121 here): within 3 standard errors (measured 1.7 SE off; seeds 0-3: <= 1.7 SE).
    truth = np.var(fitted["tau"]) - np.mean((fitted["cox"].predict(X) - fitted["tau"]) ** 2)
    assert abs(cox.loc["dr", "improvement"] - truth) < 3 * cox.loc["dr", "std_error"]


def test_losses_rank_the_oracle_first_with_three_levels():
    X, y, w, tau = exponential_arms(2000, seed=1, horizon=HORIZON)
    b = np.array([0.5, -0.5, -0.6])
    a = np.array([0.0, -0.6, 0.4])

    def truth(X):
        rate = np.exp(a + b * X[:, [0]])
        mean = (1 - np.exp(-rate * HORIZON)) / rate
        return mean[:, 1:] - mean[:, [0]]

    np.testing.assert_allclose(truth(X), tau)
    oracle = Oracle().fit(truth, [0, 1, 2])
    zero = Oracle().fit(lambda X: np.zeros((X.shape[0], 2)), [0, 1, 2])
    table = cate_losses(oracle, X, y, w)
    # The oracle improves on the best constant (its DR improvement estimates var(tau), 0.029
    # averaged over the two levels). Measured here: DR 0.020 (SE 0.012), R 0.0037 (SE 0.0029);
    # over seeds 0-4 DR 0.016-0.061 and R 0.0037-0.0135, all positive.
    assert (table["improvement"] > 0).all()
    assert dr_loss(oracle, X, y, w) < dr_loss(zero, X, y, w)
    assert r_loss(oracle, X, y, w) < r_loss(zero, X, y, w)


def test_losses_need_every_fitted_level(fitted):
    X, y, w = fitted["test"]
    with pytest.raises(ValueError, match="levels"):
        dr_loss(fitted["cox"], X, y, np.where(w == 1, 2, 0))


# -------------------------------------------------- scikit-learn model selection (routing)


def test_grid_search_and_cross_val_score_choose_the_correct_learner():
    X, y, w, _ = ph_design(1200, 1)
    grid = {"base_model": [KaplanMeierSurvival(), CoxPH()]}
    cv = KFold(3, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("error")  # no scoring failure may pass as a warning and NaN
        search = GridSearchCV(learner(CoxPH()), grid, cv=cv).fit(X, y, w=w)
        values = cross_val_score(learner(CoxPH()), X, y, params={"w": w}, cv=cv)
        searches = [GridSearchCV(learner(CoxPH()), grid, cv=cv, scoring=scorer).fit(X, y, w=w)
                    for scorer in (make_dr_scorer(), make_dr_scorer(improvement=True),
                                   make_r_scorer(), make_r_scorer(improvement=True))]
    # Measured mean test scores (KM, Cox): -1.93, -1.81 (score); DR improvement 0.00, 0.13.
    assert isinstance(search.best_params_["base_model"], CoxPH)
    assert values.shape == (3,) and np.all(np.isfinite(values))
    np.testing.assert_allclose(values, search.cv_results_["split0_test_score"][1:].tolist()
                               + [search.cv_results_[f"split{k}_test_score"][1]
                                  for k in (1, 2)], rtol=1e-12)
    for found in searches:
        assert isinstance(found.best_params_["base_model"], CoxPH)
    # score == the DR scorer; the improvement scorer differs by the constant's loss only.
    np.testing.assert_allclose(searches[0].cv_results_["mean_test_score"],
                               search.cv_results_["mean_test_score"], rtol=1e-12)
    gap = searches[1].cv_results_["mean_test_score"] - searches[0].cv_results_[
        "mean_test_score"]
    assert gap[0] == pytest.approx(gap[1], rel=1e-12)
    # The KM learner's CATE is a constant: it never improves on the best constant.
    assert searches[1].cv_results_["mean_test_score"][0] <= 1e-12
    assert searches[3].cv_results_["mean_test_score"][0] <= 1e-12


def test_score_without_routing_says_how_to_pass_w(fitted):
    X, y, w = fitted["test"]
    with pytest.raises(TypeError, match="enable_metadata_routing"):
        fitted["cox"].score(X, y)
    with pytest.raises(TypeError, match="enable_metadata_routing"):
        make_r_scorer()(fitted["cox"], X, y)
    with pytest.raises(TypeError, match="enable_metadata_routing"):
        cross_val_score(learner(CoxPH()), X, y, params={"w": w}, cv=2, error_score="raise")


def test_score_at_a_horizon_past_the_held_out_follow_up_names_the_arm():
    X, y, w, _ = ph_design(600, 3)
    # Default horizon: 3.04, the fitted control arm's last time; the held-out control arm's
    # last time is 2.98.
    est = SurvivalTLearner(n_bootstrap=0).fit(X[:300], y[:300], w[:300])
    held_out = slice(300, 600)
    with pytest.raises(ValueError, match="beyond the last observed time"):
        est.score(X[held_out], y[held_out], w[held_out])


def test_estimators_request_w_for_fit_and_score():
    routing = learner(CoxPH()).get_metadata_routing()
    assert routing.fit.requests == {"w": True}
    assert routing.score.requests == {"w": True}
    assert make_dr_scorer().get_metadata_routing().score.requests == {"w": True}


def test_scorer_arguments_are_checked():
    with pytest.raises(TypeError, match="improvement"):
        make_dr_scorer(improvement="yes")
    assert repr(make_r_scorer(improvement=True)) == "make_r_scorer(improvement)"


# ------------------------------------------------------------------ survival-model metrics


class ExponentialStub:
    """A 'fitted survival model' with known curves ``S(t | x) = exp(-x_1 t)``."""

    def fit(self, *args):
        return self

    def predict_survival(self, X, times):
        return np.exp(-np.asarray(X)[:, [0]] * np.asarray(times)[None, :])

    def restricted_mean(self, X, horizon):
        rate = np.asarray(X)[:, 0]
        return (1 - np.exp(-rate * horizon)) / rate


TRAIN = (np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([True, False, True, False, True]))
TEST = (np.array([1.5, 2.5, 3.5, 4.5]), np.array([True, True, False, True]))
RATES = np.array([[3.0], [1.0], [2.0], [0.5]])


def test_uno_concordance_by_hand():
    # Censoring KM of TRAIN: G = 1 before 2, 3/4 on [2, 4), 3/8 from 4. Comparable pairs
    # (event i, T_i < T_j): row 1 with rows 2, 3, 4 (weight 1/G(1.5)^2 = 1 each), row 2 with
    # rows 3, 4 (weight 1/G(2.5)^2 = 16/9 each). Risks follow the rates 3, 1, 2, 0.5: row 1
    # outranks all three; row 2 outranks row 4 but not row 3. C = (3 + 16/9) / (3 + 32/9).
    c = concordance_index_ipcw(ExponentialStub(), RATES, TRAIN, TEST, tau=5.0)
    assert c == pytest.approx(43 / 59, rel=1e-12)


def test_brier_score_by_hand():
    # At t = 3: rows 1, 2 had events before t (weights 1/G(1.5) = 1, 1/G(2.5) = 4/3), rows
    # 3, 4 are still at risk (weight 1/G(3) = 4/3).
    s = np.exp(-RATES[:, 0] * 3.0)
    expected = np.mean([s[0] ** 2, s[1] ** 2 * 4 / 3, (1 - s[2]) ** 2 * 4 / 3,
                        (1 - s[3]) ** 2 * 4 / 3])
    times, scores = brier_score(ExponentialStub(), RATES, TRAIN, TEST, [3.0])
    np.testing.assert_allclose(times, [3.0])
    assert scores[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("model", [CoxPH(), WeibullAFT(),
                                   SurvivalForest(n_estimators=50, random_state=0)],
                         ids=["CoxPH", "WeibullAFT", "SurvivalForest"])
def test_survival_metrics_equal_scikit_survival_called_directly(model):
    from sksurv.metrics import concordance_index_ipcw as sk_cindex
    from sksurv.metrics import integrated_brier_score as sk_ibs

    X, y, _, _ = ph_design(800, 2)
    train, test = slice(0, 400), slice(400, 800)
    model.fit(X[train], y["time"][train], y["event"][train])
    sk_train = np.array(list(zip(y["event"][train], y["time"][train], strict=True)),
                        dtype=[("event", bool), ("time", float)])
    sk_test = np.array(list(zip(y["event"][test], y["time"][test], strict=True)),
                       dtype=[("event", bool), ("time", float)])
    tau = 1.5
    grid = np.linspace(0, tau, 2001)
    curves = model.predict_survival(X[test], grid)
    # -RMST(tau) by a fine trapezoid: the same ordering as the exact step-curve integral.
    risk = -np.trapezoid(curves, grid, axis=1)
    expected = sk_cindex(sk_train, sk_test, risk, tau=tau)[0]
    ours = concordance_index_ipcw(model, X[test], y[train], y[test], tau=tau)
    assert ours == pytest.approx(expected, abs=2e-3)  # only near-ties may differ
    assert 0.6 < ours < 0.9  # the design's prognosis: measured 0.69-0.72
    times = np.linspace(0.2, 1.5, 14)
    ibs = integrated_brier_score(model, X[test], y[train], y[test], times)
    assert ibs == pytest.approx(
        sk_ibs(sk_train, sk_test, model.predict_survival(X[test], times), times), rel=1e-12)
    assert 0 < ibs < 0.25


def test_survival_metrics_check_their_arguments():
    with pytest.raises(TypeError, match="predict_survival"):
        concordance_index_ipcw(object(), RATES, TRAIN, TEST)
    with pytest.raises(ValueError, match="two distinct times"):
        integrated_brier_score(ExponentialStub(), RATES, TRAIN, TEST, [3.0])
    with pytest.raises(ValueError, match="rows"):
        concordance_index_ipcw(ExponentialStub(), RATES[:3], TRAIN, TEST)
    with pytest.raises(ValueError, match="y_test"):
        brier_score(ExponentialStub(), RATES, TRAIN, (TEST[0], TEST[1][:3]), [3.0])
