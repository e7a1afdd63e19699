"""CausalSurvivalForest with K > 1 treated levels: one forest per level against control."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from survhte._nuisance import check_level_probabilities
from survhte.forest import CausalSurvivalForest

from ._arms import exponential_arms

pytestmark = pytest.mark.filterwarnings("ignore:estimated censoring survival")


@pytest.fixture(scope="module")
def small():
    X, y, w, truth = exponential_arms(900, seed=3)
    return X, y, np.array(["a", "b", "c"])[w], truth


@pytest.fixture(scope="module")
def small_fit(small):
    X, y, w, _ = small
    return CausalSurvivalForest(40, horizon=2.0, control="a", random_state=0).fit(X, y, w)


def test_recovers_each_level_with_valid_intervals():
    """Confounded three-level design (multinomial logit in x1), closed-form RMST effects.

    Measured at n = 6,000, 500 trees: CATE MSE / Var(tau) = 0.36 and 0.19, 95% interval
    coverage 0.93 and 0.95, ATE errors 1.3 and 0.2 SE, ATT errors 1.2 and 0.2 SE. Bounds:
    MSE below half the best constant's; coverage in [0.85, 0.99] (the test rows share one
    forest, so the pointwise coverages are correlated); averages within 3 SE."""
    X, y, w, truth = exponential_arms(6000, seed=11)
    est = CausalSurvivalForest(500, horizon=2.0, random_state=0).fit(X, y, w)
    tau = est.predict(X)
    assert tau.shape == (6000, 2)
    lower, upper = est.predict_interval(X)
    for k in range(2):
        assert np.mean((tau[:, k] - truth[:, k]) ** 2) < 0.5 * np.var(truth[:, k])
        cover = np.mean((lower[:, k] <= truth[:, k]) & (truth[:, k] <= upper[:, k]))
        assert 0.85 <= cover <= 0.99, (k, cover)
    ate, se = est.ate(), est.ate_std_error()
    assert ate.shape == se.shape == (2,)
    assert np.all(np.abs(ate - truth.mean(axis=0)) < 3 * se), (ate, se)
    att, att_se = est.ate("treated"), est.ate_std_error("treated")
    att_truth = [truth[w == k, k - 1].mean() for k in (1, 2)]
    assert np.all(np.abs(att - att_truth) < 3 * att_se), (att, att_truth, att_se)
    np.testing.assert_allclose(est.effect(X[:5], 1, 2), tau[:5, 1] - tau[:5, 0], atol=1e-12)
    np.testing.assert_allclose(est.effect(X[:5], 2, 0), -tau[:5, 1], atol=1e-12)


def test_each_level_is_the_binary_forest_on_its_rows(small, small_fit):
    """Level k's forest is exactly a two-level fit on the rows of levels 0 and k, with the
    propensity e_k / (e_0 + e_k) and the level's seed."""
    X, y, w, _ = small
    for k, label in ((1, "b"), (2, "c")):
        rows = np.flatnonzero((w == "a") | (w == label))
        e = small_fit.w_hat_[rows]
        arm = small_fit.arm_forests_[k - 1]
        assert arm.classes_.tolist() == ["a", label]
        binary = CausalSurvivalForest(
            40, horizon=2.0, control="a", propensity_model=e[:, k] / (e[:, 0] + e[:, k]),
            random_state=arm.random_state,
        ).fit(X[rows], (y[0][rows], y[1][rows]), w[rows])
        np.testing.assert_array_equal(binary.predict(X), small_fit.predict(X)[:, k - 1])
        np.testing.assert_array_equal(binary.oob_prediction_,
                                      small_fit.oob_prediction_[rows, k - 1])
        assert binary.ate("treated") == small_fit.ate("treated")[k - 1]
    np.testing.assert_allclose(small_fit.w_hat_.sum(axis=1), 1.0, atol=1e-12)


def test_average_effect_is_the_multi_arm_aipw_mean(small, small_fit):
    """``ate()`` is the mean of ``tau_k(X_i) + 1{W_i = k} (U_i - mu_k(X_i)) / e_k(X_i)
    - 1{W_i = 0} (U_i - mu_0(X_i)) / e_0(X_i)``, with the level forest's implied arm means
    ``mu_1 = m + (1 - e) tau``, ``mu_0 = m - e tau`` and transformed outcome
    ``U = m + psi / (W - e)`` (``e`` its two-level propensity), written out directly."""
    w = small[2]
    codes = np.searchsorted(["a", "b", "c"], w)
    pi = small_fit.w_hat_
    for k in (1, 2):
        arm = small_fit.arm_forests_[k - 1]
        rows = np.flatnonzero((codes == 0) | (codes == k))
        tau = small_fit.oob_prediction_[:, k - 1]
        e, m, treated = arm.w_hat_, arm.y_hat_, codes[rows] == k
        u = m + arm.psi_numerator_ / (treated - e)
        mu1, mu0 = m + (1 - e) * tau[rows], m - e * tau[rows]
        gamma = tau.copy()
        gamma[rows] += np.where(treated, (u - mu1) / pi[rows, k], -(u - mu0) / pi[rows, 0])
        assert small_fit.ate()[k - 1] == pytest.approx(gamma.mean(), abs=1e-12)
        se = gamma.std(ddof=1) / np.sqrt(gamma.size)
        assert small_fit.ate_std_error()[k - 1] == pytest.approx(se, rel=1e-10)


def test_api_on_three_levels(small, small_fit):
    X, y, w, _ = small
    est = small_fit
    assert est.classes_.tolist() == ["a", "b", "c"]
    assert est.predict_variance(X[:7]).shape == (7, 2)
    assert est.oob_variance_.shape == (X.shape[0], 2)
    lower, upper = est.ate_interval()
    assert np.all(lower < est.ate()) and np.all(est.ate() < upper)
    # On the controls: level k's two-level forest's ATC (the control rows are all its own).
    atc = est.ate("control")
    assert atc.shape == est.ate_std_error("control").shape == (2,)
    for k in range(2):
        assert atc[k] == est.arm_forests_[k].ate("control")
    curves = est.predict_survival(X[:4], ["a", "b", "c", "a"], [0.5, 1.0])
    np.testing.assert_array_equal(
        curves[2], est.arm_forests_[1].predict_survival(X[2:3], "c", [0.5, 1.0])[0])
    np.testing.assert_array_equal(
        curves[3], est.arm_forests_[0].predict_survival(X[3:4], "a", [0.5, 1.0])[0])
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    np.testing.assert_array_equal(clone(est).fit(X, y, w).predict(X), est.predict(X))
    with pytest.raises(ValueError, match="one forest per treated level"):
        est.get_forest_weights(X[:3])
    with pytest.raises(ValueError, match="t1='d' is not a treatment level"):
        est.effect(X, "a", "d")


def test_refit_with_two_levels_drops_the_level_forests(small):
    X, y, w, _ = small
    est = CausalSurvivalForest(20, horizon=2.0, control="a", random_state=0).fit(X, y, w)
    keep = w != "c"
    est.fit(X[keep], (y[0][keep], y[1][keep]), w[keep])
    assert not hasattr(est, "arm_forests_")
    assert est.predict(X[:3]).shape == (3,)


def test_propensity_of_every_level(small):
    X, y, w, _ = small
    kw = dict(n_estimators=20, horizon=2.0, control="a", random_state=0)
    given = np.full(3, 1 / 3)
    est = CausalSurvivalForest(propensity_model=given, **kw).fit(X, y, w)
    np.testing.assert_array_equal(est.w_hat_, np.full((X.shape[0], 3), 1 / 3))
    np.testing.assert_array_equal(est.arm_forests_[1].w_hat_, 0.5)
    logit = CausalSurvivalForest(propensity_model=LogisticRegression(), n_folds=3,
                                 **kw).fit(X, y, w)
    assert logit.w_hat_.shape == (X.shape[0], 3)
    np.testing.assert_allclose(logit.w_hat_.sum(axis=1), 1.0, atol=1e-12)
    # The one propensity specification of survhte._nuisance: "constant" is the arm shares.
    shares = CausalSurvivalForest(propensity_model="constant", **kw).fit(X, y, w)
    np.testing.assert_allclose(shares.w_hat_[0], [np.mean(w == level) for level in "abc"])
    for bad, match in [(0.5, "binary treatment.*3 levels"),
                       (np.full((X.shape[0], 3), 0.5), "sum to 1"),
                       (np.array([0.0, 0.5, 0.5]), "3 positive probabilities")]:
        with pytest.raises(ValueError, match=match):
            CausalSurvivalForest(propensity_model=bad, **kw).fit(X, y, w)


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(3, 4)),
                  elements=st.floats(-0.5, 1.5)), st.booleans())
def test_level_probabilities_accepted_exactly_when_valid(raw, per_level):
    """Accepted iff the shape is (levels,) or (n, levels), every entry is in (0, 1) and every
    row sums to 1 (within 1e-6); accepted values come back unchanged as (n, levels)."""
    n, levels = raw.shape
    with np.errstate(divide="ignore", invalid="ignore"):  # rows summing to 0: NaN, rejected
        values = raw / raw.sum(axis=1, keepdims=True) if per_level else raw
    valid = (np.all((values > 0) & (values < 1))
             and np.allclose(values.sum(axis=1), 1.0, rtol=0, atol=1e-6))
    if valid:
        np.testing.assert_array_equal(check_level_probabilities(values, n, levels, "p"), values)
        if n == 1:
            np.testing.assert_array_equal(
                check_level_probabilities(values[0], 4, levels, "p"), np.repeat(values, 4, 0))
    else:
        with pytest.raises(ValueError, match=r"^p "):
            check_level_probabilities(values, n, levels, "p")
    with pytest.raises(ValueError, match="must have shape"):
        check_level_probabilities(values[:, :-1], n, levels, "p")


def test_average_effect_intervals_cover_on_repeats():
    """40 draws of the confounded three-level design (n = 1,500, 100 trees): each level's 95%
    ATE interval covers the sample's mean conditional effect in 40/40 and 40/40 draws; the
    z-scores (ate - truth) / SE have mean 0.09 and -0.26 and sd 0.89 and 0.89. Bounds:
    coverage >= 35/40, |mean z| <= 0.45 (3 SE of a mean of 40), sd(z) <= 1.2. Leaving out the
    division of each level's corrections by e_0 + e_k (1 / e_k weights) gives coverage 0.80
    and 0.83, sd(z) 1.40 and 1.35 and mean z -0.51 for level 2: it fails here."""
    z, covered = [], []
    for r in range(40):
        X, y, w, truth = exponential_arms(1500, seed=100 + r)
        est = CausalSurvivalForest(100, horizon=2.0, random_state=r).fit(X, y, w)
        lower, upper = est.ate_interval()
        target = truth.mean(axis=0)
        covered.append((lower <= target) & (target <= upper))
        z.append((est.ate() - target) / est.ate_std_error())
    assert np.all(np.mean(covered, axis=0) >= 35 / 40), np.mean(covered, axis=0)
    assert np.all(np.abs(np.mean(z, axis=0)) <= 0.45), np.mean(z, axis=0)
    assert np.all(np.std(z, axis=0) <= 1.2), np.std(z, axis=0)
