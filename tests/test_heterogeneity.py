"""Heterogeneity tools: doubly robust scores, BLP, calibration test, RATE, groups, importance."""

import numpy as np
import pytest

import survhte
from survhte import TLearner, doubly_robust_scores, get_scores
from survhte.inference import AIPCW
from survhte.simulate import survhte_bench
from tests._arms import exponential_arms


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
    est = TLearner(target="survival", horizon=1.5, control="b", random_state=0).fit(
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
    est = TLearner(horizon=1.0, random_state=0).fit(rct.X, rct.y, rct.w)
    with pytest.raises(ValueError, match=r"levels \[0, 1, 2\]"):
        get_scores(est, rct.X, rct.y, np.where(np.arange(800) < 100, 2, rct.w))
    with pytest.raises(ValueError, match="target"):
        doubly_robust_scores(rct.X, rct.y, rct.w, target="hazard")


def test_exported_from_the_top_level():
    assert survhte.doubly_robust_scores is doubly_robust_scores
    assert "get_scores" in survhte.__all__
