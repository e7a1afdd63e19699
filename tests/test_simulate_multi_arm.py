"""K-arm SurvHTE-Bench generator: reduction to the binary designs, documented formulas, and the
exact truth of every level against Monte Carlo draws of the counterfactual times."""

import numpy as np
import pytest

from survhte.simulate import (
    CONFIGS,
    SCENARIOS,
    MultiArmSimulation,
    SurvivalSimulation,
    multi_arm_bench,
    multi_arm_cate,
    multi_arm_potential_outcome,
    survhte_bench,
)
from survhte.simulate._designs import confounding_shift, event_parameter, propensity
from survhte.simulate._generate import _draw_event_time
from survhte.simulate._multi_arm import arm_parameter, multi_arm_propensity

FIELDS = ("X", "U", "w", "T0", "T1", "C", "time", "event")
# A horizon near the median of each scenario's event time (non-integer for the Poisson ones,
# whose survival functions jump at the integers).
HORIZON = {"A": 0.2, "B": 0.25, "C": 7.5, "D": 1.7, "E": 8.5}


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_one_treated_level_reproduces_survhte_bench(config, scenario):
    binary = survhte_bench(config, scenario, n=400, random_state=11)
    multi = multi_arm_bench(config, scenario, n=400, n_treated=1, random_state=11)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(multi, name), getattr(binary, name), err_msg=name)
    np.testing.assert_array_equal(multi.propensity[:, 1], binary.propensity)
    np.testing.assert_array_equal(multi.T, binary.T)
    for target in ("rmst", "survival"):
        h = HORIZON[scenario]
        np.testing.assert_array_equal(multi.true_cate(target, h)[:, 0], binary.true_cate(target, h))
    h = HORIZON[scenario]
    np.testing.assert_array_equal(multi.individual_effect(h)[:, 0], binary.individual_effect(h))


@pytest.mark.parametrize("effects", ["distinct", "shared"])
def test_one_treated_level_reproduces_the_legacy_stream(effects):
    binary = survhte_bench("OBS-UConf-IC", "A", n=300, random_state=2025, legacy=True)
    multi = multi_arm_bench(
        "OBS-UConf-IC", "A", n=300, n_treated=1, random_state=2025, legacy=True, effects=effects
    )
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(multi, name), getattr(binary, name), err_msg=name)


def test_container_shapes_and_factual_outcome():
    d = multi_arm_bench("OBS-CPS", "B", n=600, n_treated=4, random_state=1)
    assert isinstance(d, MultiArmSimulation) and isinstance(d, SurvivalSimulation)
    assert d.potential_times.shape == (600, 5) and d.propensity.shape == (600, 5)
    assert set(np.unique(d.w)) == {0, 1, 2, 3, 4}
    np.testing.assert_array_equal(d.T, d.potential_times[np.arange(600), d.w])
    np.testing.assert_array_equal(d.time, np.minimum(d.T, d.C))
    np.testing.assert_array_equal(d.event, d.T <= d.C)
    assert d.true_cate("rmst", 0.3).shape == (600, 4)
    assert d.true_cate("survival", 0.3).shape == (600, 4)
    assert d.individual_effect(0.3, "survival").shape == (600, 4)
    frame = d.to_frame()
    assert [f"T{k}" for k in range(5)] == [c for c in frame.columns if c.startswith("T")]
    np.testing.assert_allclose(frame.filter(like="propensity").sum(axis=1), 1.0)


def test_effect_terms_follow_the_documented_formulas():
    X = np.random.default_rng(3).random((50, 5))
    x1, x2, x3, x4, x5 = X.T
    # distinct: level k's effect term is the binary one on covariates rotated by k - 1
    expected_a = {1: x2, 2: x3, 3: x4, 4: x5, 5: x1}
    for k, xk in expected_a.items():
        np.testing.assert_allclose(arm_parameter("A", X, k, 5, "distinct"), x1 - 0.5 + xk)
    np.testing.assert_allclose(
        arm_parameter("C", X, 3, 5, "distinct"), x2**2 + x3 + 6 + 2 * (np.sqrt(x3) - 0.3)
    )
    b_base = -1.85 - 0.8 * (x1 < 0.5) + 0.7 * np.sqrt(x2) + 0.2 * x3
    np.testing.assert_allclose(
        arm_parameter("B", X, 2, 3, "distinct"),
        b_base + 0.7 - 0.4 * (x2 < 0.5) - 0.4 * np.sqrt(x3),
    )
    # shared: a_k = 2 k / (K + 1) times the binary effect term
    for k in range(1, 5):
        np.testing.assert_allclose(
            arm_parameter("D", X, k, 4, "shared"),
            event_parameter("D", X, 0) + 2 * k / 5 * (1 - 0.8 * (x1 < 0.5) - 0.8 * np.sqrt(x2)),
        )
    # E is C shifted by one at every level
    np.testing.assert_allclose(
        arm_parameter("E", X, 4, 4, "distinct"), arm_parameter("C", X, 4, 4, "distinct") + 1
    )


@pytest.mark.parametrize("config", ["RCT-50", "RCT-5", "OBS-CPS", "OBS-UConf", "OBS-NoPos"])
def test_assignment_follows_the_propensity(config):
    d = multi_arm_bench(config, "A", n=40_000, n_treated=3, random_state=5)
    np.testing.assert_allclose(d.propensity.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    one_hot = d.w[:, None] == np.arange(4)
    # E[1{W = k} - P(W = k | X, U)] = 0; 5 standard errors (sd <= 0.5 per row) bound the noise.
    gap = (one_hot - d.propensity).mean(axis=0)
    assert np.all(np.abs(gap) < 5 * 0.5 / np.sqrt(d.w.size)), gap
    if config == "OBS-NoPos":
        assert np.all(d.w[d.X[:, 0] < 0.2] == 0) and np.all(d.w[d.X[:, 0] > 0.8] > 0)
    if config.startswith("OBS-C"):
        assert d.propensity.min() >= (1 / 3) / (1 + 3.49 * 3)


def test_multinomial_logit_odds_are_the_binary_propensity_odds():
    rng = np.random.default_rng(0)
    X, U = rng.random((200, 5)), rng.random((200, 2))
    probs = multi_arm_propensity("OBS-UConf", X, U, 2)
    e1 = propensity("OBS-UConf", X, U)  # level 1: z = X1, u = U1, the binary rule
    e2 = propensity("OBS-UConf", 1 - X, 1 - U)  # level 2: z = 1 - X1, u = 1 - U1
    np.testing.assert_allclose(probs[:, 1] / probs[:, 0], e1 / (1 - e1))
    np.testing.assert_allclose(probs[:, 2] / probs[:, 0], e2 / (1 - e2))


def _monte_carlo(config, scenario, x_row, level, n_treated, effects, h, rng, m=100_000):
    """Mean and standard error of min(T(k), h) and 1{T(k) > h} over m draws given x_row,
    with U1 drawn afresh per draw (the generator's own sampling path)."""
    X = np.repeat(x_row, m, axis=0)
    shift = confounding_shift(config, X, rng.random(m))
    times = _draw_event_time(rng, scenario, arm_parameter(scenario, X, level, n_treated, effects,
                                                          shift))
    out = {}
    for target, values in (("rmst", np.minimum(times, h)), ("survival", (times > h) * 1.0)):
        out[target] = (values.mean(), values.std() / np.sqrt(m))
    return out


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize(
    ("config", "effects"), [("RCT-50", "distinct"), ("OBS-UConf", "distinct"), ("RCT-5", "shared")]
)
def test_truth_matches_monte_carlo_per_level(config, scenario, effects):
    rng = np.random.default_rng(2024)
    rows = rng.random((2, 5))
    h, n_treated = HORIZON[scenario], 4
    for level in range(n_treated + 1):
        for i in range(rows.shape[0]):
            mc = _monte_carlo(config, scenario, rows[i : i + 1], level, n_treated, effects, h, rng)
            for target, (mean, se) in mc.items():
                exact = multi_arm_potential_outcome(
                    config, scenario, rows[i : i + 1], level, n_treated, target, h,
                    effects=effects,
                )[0]
                # 5 Monte Carlo standard errors: 100 comparisons per test, a false alarm has
                # probability ~1e-4 and the seed is fixed; a slip in a level's parameter or in
                # the U1 quadrature moves the mean by many standard errors (SE ~ 1e-3 of h).
                assert abs(exact - mean) <= 5 * se + 1e-12, (level, target, exact, mean, se)


@pytest.mark.parametrize("config", ["OBS-CPS-IC", "OBS-UConf", "OBS-NoPos"])
@pytest.mark.parametrize("scenario", ["A", "C", "D"])
def test_true_cate_is_the_conditional_mean_of_the_row_effects(config, scenario):
    # Through the public generator: the per-row effects min(T(k), h) - min(T(0), h) minus the
    # exact tau_k(X) have mean zero; 5 standard errors of their mean bound the noise.
    d = multi_arm_bench(config, scenario, n=30_000, n_treated=3, random_state=9)
    h = HORIZON[scenario]
    for target in ("rmst", "survival"):
        residual = d.individual_effect(h, target) - d.true_cate(target, h)
        se = residual.std(axis=0) / np.sqrt(d.w.size)
        assert np.all(np.abs(residual.mean(axis=0)) <= 5 * se), (target, residual.mean(0), se)


def test_multi_arm_cate_equals_level_differences_and_untruncated_mean():
    X = np.random.default_rng(1).random((20, 5))
    tau = multi_arm_cate("OBS-UConf", "B", X, 3, "rmst", None)
    for k in range(1, 4):
        expected = (multi_arm_potential_outcome("OBS-UConf", "B", X, k, 3)
                    - multi_arm_potential_outcome("OBS-UConf", "B", X, 0, 3))
        np.testing.assert_allclose(tau[:, k - 1], expected)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_treated": 0}, r"n_treated must be an integer 1\.\.5"),
        ({"n_treated": 6}, r"n_treated must be an integer 1\.\.5"),
        ({"n_treated": 2.0}, "n_treated"),
        ({"n_treated": True}, "n_treated"),
        ({"effects": "joint"}, "effects must be one of"),
        ({"n": 0}, "n must be a positive integer"),
    ],
)
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        multi_arm_bench("RCT-50", "A", **{"n": 10, **kwargs})


def test_invalid_level_raises():
    with pytest.raises(ValueError, match=r"level must be an integer 0\.\.2"):
        multi_arm_potential_outcome("RCT-50", "A", np.full((1, 5), 0.5), 3, 2)
