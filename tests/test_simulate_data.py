"""The generator's result: structure, reproducibility, designs' deterministic rules, errors."""

import dataclasses
import math

import numpy as np
import pytest

from survhte.simulate import CONFIGS, SCENARIOS, SurvivalSimulation, survhte_bench


def test_configs_and_scenarios():
    assert len(CONFIGS) == 8 and len(SCENARIOS) == 5
    assert set(CONFIGS) == {
        "RCT-50", "RCT-5", "OBS-CPS", "OBS-UConf", "OBS-NoPos",
        "OBS-CPS-IC", "OBS-UConf-IC", "OBS-NoPos-IC",
    }  # fmt: skip


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize(("config", "scenario"), [("OBS-UConf", "C"), ("OBS-CPS-IC", "B")])
def test_result_structure(config, scenario, legacy):
    n = 1_000
    d = survhte_bench(config, scenario, n=n, random_state=11, legacy=legacy)
    assert isinstance(d, SurvivalSimulation)
    assert (d.config, d.scenario) == (config, scenario)
    assert d.X.shape == (n, 5) and d.X.dtype == np.float64
    assert d.U.shape == (n, 2) and d.U.dtype == np.float64
    for name in ("time", "T0", "T1", "C", "propensity"):
        assert getattr(d, name).shape == (n,) and getattr(d, name).dtype == np.float64, name
    assert d.event.dtype == np.bool_ and d.w.dtype == np.int64
    assert set(np.unique(d.w)) <= {0, 1}
    assert d.y.dtype.names == ("event", "time")
    np.testing.assert_array_equal(d.y["time"], d.time)
    np.testing.assert_array_equal(d.y["event"], d.event)
    np.testing.assert_array_equal(d.T, np.where(d.w == 1, d.T1, d.T0))
    np.testing.assert_array_equal(d.time, np.minimum(d.T, d.C))
    np.testing.assert_array_equal(d.event, d.T <= d.C)
    assert np.all((d.X >= 0) & (d.X <= 1)) and np.all((d.U > 0) & (d.U <= 1))
    assert np.all(d.time >= 0) and np.all((d.propensity >= 0) & (d.propensity <= 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.config = "RCT-50"


def test_to_frame():
    d = survhte_bench("OBS-UConf", "A", n=200, random_state=1)
    frame = d.to_frame()
    assert list(frame.columns) == [
        "X1", "X2", "X3", "X4", "X5", "time", "event", "W", "T0", "T1", "C", "propensity",
    ]  # fmt: skip
    np.testing.assert_array_equal(frame[["X1", "X2", "X3", "X4", "X5"]].to_numpy(), d.X)
    np.testing.assert_array_equal(frame["event"].to_numpy(), d.event.astype(int))
    for column, values in [("time", d.time), ("W", d.w), ("C", d.C), ("propensity", d.propensity)]:
        np.testing.assert_array_equal(frame[column].to_numpy(), values)


@pytest.mark.parametrize("legacy", [False, True])
def test_seed_reproducibility(legacy):
    a = survhte_bench("OBS-CPS", "E", n=500, random_state=5, legacy=legacy)
    b = survhte_bench("OBS-CPS", "E", n=500, random_state=5, legacy=legacy)
    c = survhte_bench("OBS-CPS", "E", n=500, random_state=6, legacy=legacy)
    for name in ("X", "U", "w", "T0", "T1", "C", "time", "event"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.X, c.X)


def test_default_stream_is_numpy_default_rng():
    from_int = survhte_bench("RCT-50", "D", n=300, random_state=9)
    from_generator = survhte_bench("RCT-50", "D", n=300, random_state=np.random.default_rng(9))
    legacy = survhte_bench("RCT-50", "D", n=300, random_state=9, legacy=True)
    np.testing.assert_array_equal(from_int.T1, from_generator.T1)
    np.testing.assert_array_equal(from_int.X, np.random.default_rng(9).random((300, 5)))
    np.testing.assert_array_equal(legacy.X, np.random.RandomState(9).rand(300, 5))


def test_rct5_treats_five_percent():
    d = survhte_bench("RCT-5", "A", n=50_000, random_state=21)
    # binomial sampling SE sqrt(0.05 * 0.95 / n) ~ 1e-3; 4 SE is a false-alarm rate < 1e-4
    assert abs(d.w.mean() - 0.05) < 4 * math.sqrt(0.05 * 0.95 / d.w.size)
    np.testing.assert_array_equal(d.propensity, 0.05)


@pytest.mark.parametrize("config", ["OBS-NoPos", "OBS-NoPos-IC"])
def test_no_positivity_design(config):
    d = survhte_bench(config, "C", n=50_000, random_state=22)
    x1 = d.X[:, 0]
    low, high = x1 < 0.2, x1 > 0.8
    middle = ~low & ~high
    assert np.all(d.propensity[low] == 0) and np.all(d.propensity[high] == 1)
    assert np.all(d.propensity[middle] == 0.5)
    assert not d.w[low].any() and d.w[high].all()
    # the middle is a fair coin: 4 binomial SE
    assert abs(d.w[middle].mean() - 0.5) < 4 * math.sqrt(0.25 / middle.sum())


def test_hidden_confounder_drives_treatment_only_in_uconf():
    d = survhte_bench("OBS-UConf", "B", n=2_000, random_state=3)
    lin = 0.3 * d.X[:, 0] + 0.7 * d.U[:, 0]
    np.testing.assert_allclose(d.propensity, (1 + 20 * lin * (1 - lin) ** 3) / 4, rtol=1e-12)
    cps = survhte_bench("OBS-CPS", "B", n=2_000, random_state=3)
    x1 = cps.X[:, 0]
    np.testing.assert_allclose(cps.propensity, (1 + 20 * x1 * (1 - x1) ** 3) / 4, rtol=1e-12)


def test_scenario_c_censoring_values():
    d = survhte_bench("RCT-50", "C", n=5_000, random_state=4)
    finite = np.isfinite(d.C)
    np.testing.assert_array_equal(d.C[finite], 1.0 + (d.X[finite, 3] < 0.5))
    assert np.all(d.T0 == np.round(d.T0)) and np.all(d.T1 == np.round(d.T1))


def test_individual_effect():
    d = survhte_bench("OBS-CPS", "D", n=1_000, random_state=8)
    np.testing.assert_array_equal(d.individual_effect(), d.T1 - d.T0)
    np.testing.assert_array_equal(d.individual_effect(math.inf), d.T1 - d.T0)
    h = float(np.median(d.T))
    np.testing.assert_array_equal(d.individual_effect(h), np.minimum(d.T1, h) - np.minimum(d.T0, h))
    surv = d.individual_effect(h, target="survival")
    np.testing.assert_array_equal(surv, (d.T1 > h).astype(float) - (d.T0 > h))
    np.testing.assert_array_equal(
        d.true_cate("rmst", h),
        d.potential_outcome_mean(1, "rmst", h) - d.potential_outcome_mean(0, "rmst", h),
    )


@pytest.mark.parametrize(
    ("kwargs", "argument", "listed"),
    [
        ({"config": "RCT-10"}, "config", "OBS-NoPos-IC"),
        ({"config": "rct-50"}, "config", "RCT-50"),
        ({"scenario": "F"}, "scenario", "'E'"),
        ({"scenario": "a"}, "scenario", "'A'"),
        ({"n": 0}, "n", ""),
        ({"n": -5}, "n", ""),
        ({"n": 10.0}, "n", ""),
        ({"n": True}, "n", ""),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, argument, listed):
    call = {"config": "RCT-50", "scenario": "A", "n": 10} | kwargs
    with pytest.raises(ValueError, match=argument) as info:
        survhte_bench(**call)
    assert listed in str(info.value)


def test_legacy_needs_an_integer_seed():
    with pytest.raises(TypeError, match="random_state"):
        survhte_bench("RCT-50", "A", n=10, random_state=np.random.default_rng(0), legacy=True)


@pytest.mark.parametrize(
    ("method", "kwargs", "argument"),
    [
        ("individual_effect", {"horizon": -1.0}, "horizon"),
        ("individual_effect", {"horizon": None, "target": "survival"}, "horizon"),
        ("individual_effect", {"horizon": 1.0, "target": "cure"}, "target"),
        ("true_cate", {"target": "survival", "horizon": math.inf}, "horizon"),
        ("potential_outcome_mean", {"w": -1}, "w"),
    ],
)
def test_bad_method_arguments(method, kwargs, argument):
    d = survhte_bench("RCT-50", "A", n=10, random_state=0)
    with pytest.raises(ValueError, match=argument):
        getattr(d, method)(**kwargs)
