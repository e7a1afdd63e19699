"""Stress designs: exact truth against Monte Carlo, shapes, censoring, bad input."""

import numpy as np
import pytest
from scipy.integrate import quad

from survhte.simulate import STRESS_DESIGNS, stress_design


@pytest.mark.parametrize("name", sorted(STRESS_DESIGNS))
def test_shapes_and_levels(name):
    d = stress_design(name, n=400, random_state=1)
    k = STRESS_DESIGNS[name].n_treated
    assert d.X.shape == (400, STRESS_DESIGNS[name].p)
    assert d.n_levels == k + 1 and set(np.unique(d.w)) == set(range(k + 1))
    tau = d.true_cate("rmst")
    assert tau.shape == ((400,) if k == 1 else (400, k))
    np.testing.assert_allclose(d.propensity.sum(axis=1), 1.0)
    assert d.y["time"].shape == (400,) and d.to_frame().shape == (400, d.X.shape[1] + 3)
    # the design's horizon is inside every arm's follow-up (administrative censoring >= h)
    assert all(d.time[d.w == j].max() > d.horizon for j in range(k + 1))


def test_rmst_closed_form_equals_numerical_integral():
    d = stress_design("nonlinear", n=20, random_state=2)
    h = d.horizon
    for level in (0, 1):
        rate = np.exp(d.log_hazard[:, level]) / 30.0**1.3
        numeric = [quad(lambda t, a=a: np.exp(-a * t**1.3), 0, h)[0] for a in rate]
        np.testing.assert_allclose(d.potential_outcome_mean(level, "rmst"), numeric, rtol=1e-9)
        np.testing.assert_allclose(d.potential_outcome_mean(level, "survival"),
                                   np.exp(-rate * h**1.3))


def test_truth_matches_monte_carlo_of_potential_outcomes():
    # Redraw T(k) for one covariate profile many times from the same Weibull model:
    # the sample RMST matches the closed form within 4 Monte Carlo standard errors.
    d = stress_design("trial_4arm", n=50, random_state=3)
    rng = np.random.default_rng(0)
    m = 200_000
    for level in range(d.n_levels):
        eta = d.log_hazard[0, level]
        t = 30.0 * (-np.log(rng.random(m)) / np.exp(eta)) ** (1 / 1.3)
        draws = np.minimum(t, d.horizon)
        se = draws.std() / np.sqrt(m)
        assert abs(draws.mean() - d.potential_outcome_mean(level)[0]) < 4 * se


def test_censoring_share_and_null_design():
    heavy = stress_design("heavy_censoring", random_state=0)
    assert 0.7 < 1 - heavy.event.mean() < 0.82  # documented ~75%
    null = stress_design("null", random_state=0)
    assert np.all(null.true_cate("rmst") == 0) and np.all(null.true_cate("survival", 12) == 0)
    small = stress_design("small_arm", random_state=0)
    assert 0.1 < small.w.mean() < 0.14  # 12% treated


def test_reproducible_and_errors():
    a, b = stress_design("confounded", n=300, random_state=5), stress_design(
        "confounded", n=300, random_state=5)
    np.testing.assert_array_equal(a.time, b.time)
    assert 0.05 < a.propensity[:, 1].min() and a.propensity[:, 1].max() < 0.95
    with pytest.raises(ValueError, match="name must be one of"):
        stress_design("easy")
    with pytest.raises(ValueError, match="n must be an integer >= 8"):
        stress_design("trial_4arm", n=5)
    with pytest.raises(ValueError, match="horizon"):
        a.true_cate("rmst", horizon=-1)
