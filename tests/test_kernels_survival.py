"""Property tests of the array-API survival kernels (risk table, KM, Nelson-Aalen, RMST)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survhte import _kernels as k

SETTINGS = settings(max_examples=150, deadline=None)


@st.composite
def censored_data(draw, weighted=False):
    """Heavily tied integer times (0 included), random events, optional weights (zeros allowed)."""
    n = draw(st.integers(1, 40))
    time = np.array(draw(st.lists(st.integers(0, 8), min_size=n, max_size=n)), dtype=np.float64)
    event = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    if not weighted:
        return time, event, None
    weights = draw(
        st.lists(
            st.one_of(st.just(0.0), st.floats(0.01, 5.0)), min_size=n, max_size=n
        )
    )
    return time, event, np.array(weights)


def fit(time, event, weight=None):
    """Every kernel output for one data set."""
    table = k.risk_table(time, event, weight)
    survival = k.survival_curve(table)
    terms = k.greenwood_terms(table)
    return {
        "timeline": table.timeline,
        "n_at_risk": table.n_at_risk,
        "n_events": table.n_events,
        "n_censored": table.n_censored,
        "survival": survival,
        "survival_variance": k.greenwood_variance(survival, terms),
        "hazard": k.cumulative_hazard(table),
        "hazard_variance": k.cumulative_hazard_variance(table),
        "terms": terms,
    }


def assert_same_fit(a, b, exact=False):
    for name in a:
        if exact:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        else:
            np.testing.assert_allclose(a[name], b[name], rtol=1e-10, atol=1e-12, err_msg=name)


@SETTINGS
@given(censored_data(weighted=True))
def test_curves_are_monotone_and_bounded(data):
    out = fit(*data)
    s, h = out["survival"], out["hazard"]
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) <= 0)
    assert np.all(h >= 0) and np.all(np.diff(h) >= 0)
    assert np.all(out["survival_variance"] >= 0) and np.all(out["hazard_variance"] >= 0)
    assert np.all(np.diff(out["timeline"]) > 0)


@SETTINGS
@given(censored_data(weighted=True))
def test_risk_table_accounts_for_every_row(data):
    time, event, weight = data
    out = fit(time, event, weight)
    w = np.ones_like(time) if weight is None else weight
    np.testing.assert_allclose(out["n_at_risk"][0], w.sum(), rtol=1e-12)
    np.testing.assert_allclose(out["n_events"].sum(), w[event].sum(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out["n_censored"].sum(), w[~event].sum(), rtol=1e-12, atol=1e-12)
    expected_at_risk = [w[time >= t].sum() for t in out["timeline"]]
    np.testing.assert_allclose(out["n_at_risk"], expected_at_risk, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(censored_data(), st.lists(st.floats(0.01, 10.0), min_size=1, max_size=6))
def test_rmst_bounded_and_increasing_in_horizon(data, horizons):
    time, event, _ = data
    out = fit(time, event)
    horizons = np.sort(np.array(horizons))
    area = k.restricted_mean(out["timeline"], out["survival"], horizons)
    assert np.all(area <= horizons + 1e-12) and np.all(area >= 0)
    assert np.all(np.diff(area) >= -1e-12)
    # the area grows no faster than the horizon, and at rate S(h) just after h
    assert np.all(np.diff(area) <= np.diff(horizons) + 1e-12)
    s_at = k.step_values(out["timeline"], out["survival"], horizons, 1.0)
    step = k.restricted_mean(out["timeline"], out["survival"], horizons + 1e-3) - area
    nearest_jump = np.min(np.abs(horizons[:, None] + 5e-4 - out["timeline"][None, :]), axis=1)
    smooth = nearest_jump > 1e-3
    np.testing.assert_allclose(step[smooth], 1e-3 * s_at[smooth], rtol=1e-6)


@SETTINGS
@given(censored_data(), st.floats(0.01, 10.0))
def test_rmst_and_its_variance_match_direct_sums(data, horizon):
    time, event, _ = data
    out = fit(time, event)
    timeline, survival, terms = out["timeline"], out["survival"], out["terms"]
    # Direct piecewise sum: S = 1 on [0, t_1), S(t_j) on [t_j, t_{j+1}), cut at the horizon.
    knots = np.concatenate(([0.0], timeline, [np.inf]))
    heights = np.concatenate(([1.0], survival))

    def area(a, b):
        return sum(
            heights[j] * max(0.0, min(knots[j + 1], b) - max(knots[j], a))
            for j in range(len(heights))
        )

    expected = area(0.0, horizon)
    got = k.restricted_mean(timeline, survival, np.array([horizon]))[0]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    variance = sum(
        area(t, horizon) ** 2 * g for t, g in zip(timeline, terms, strict=True) if t <= horizon
    )
    got_variance = k.restricted_mean_variance(timeline, survival, terms, horizon)
    np.testing.assert_allclose(got_variance, variance, rtol=1e-10, atol=1e-14)


@SETTINGS
@given(censored_data())
def test_unit_weights_equal_unweighted(data):
    time, event, _ = data
    assert_same_fit(fit(time, event), fit(time, event, np.ones_like(time)), exact=True)


@SETTINGS
@given(censored_data(weighted=True))
def test_duplicated_rows_equal_weight_two(data):
    time, event, weight = data
    weight = np.ones_like(time) if weight is None else weight
    doubled = fit(np.tile(time, 2), np.tile(event, 2), np.tile(weight, 2))
    assert_same_fit(doubled, fit(time, event, 2.0 * weight))


@SETTINGS
@given(censored_data(weighted=True), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(data, random):
    time, event, weight = data
    order = np.array(random.sample(range(time.size), time.size), dtype=np.intp)
    shuffled = fit(time[order], event[order], None if weight is None else weight[order])
    assert_same_fit(fit(time, event, weight), shuffled)


@SETTINGS
@given(censored_data(weighted=True))
def test_zero_weight_rows_change_no_curve(data):
    time, event, weight = data
    keep = weight > 0
    if not keep.any():
        return
    full = fit(time, event, weight)
    kept = fit(time[keep], event[keep], weight[keep])
    query = np.linspace(0.0, 9.0, 37)
    for curve, initial in (("survival", 1.0), ("hazard", 0.0)):
        np.testing.assert_allclose(
            k.step_values(full["timeline"], full[curve], query, initial),
            k.step_values(kept["timeline"], kept[curve], query, initial),
            rtol=1e-10, atol=1e-12,
        )


def test_step_values_are_right_continuous():
    timeline = np.array([0.0, 2.0, 5.0])
    values = np.array([0.9, 0.5, 0.2])
    query = np.array([0.0, 1.999, 2.0, 4.0, 5.0, 99.0])
    np.testing.assert_array_equal(
        k.step_values(timeline, values, query, 1.0), [0.9, 0.9, 0.5, 0.5, 0.2, 0.2]
    )
    np.testing.assert_array_equal(k.step_values(timeline[1:], values[1:], query[:2], 1.0), 1.0)


def test_everyone_failing_at_the_last_time_sends_survival_to_zero_without_warnings():
    time = np.array([1.0, 2.0, 2.0])
    event = np.array([True, True, True])
    with np.errstate(all="raise"):
        out = fit(time, event, np.array([0.1, 0.2, 0.7]))
        lower, upper = k.loglog_interval(out["survival"], out["terms"], 1.96)
    np.testing.assert_allclose(out["survival"], [0.9, 0.0])
    np.testing.assert_array_equal(out["terms"][-1], 0.0)
    np.testing.assert_array_equal([lower[-1], upper[-1]], 0.0)


@pytest.mark.parametrize("api_version", ["2023.12", "2024.12"])
def test_kernels_use_only_the_array_api_standard(api_version):
    xps = pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(3)
    time = np.round(rng.exponential(4.0, 200))
    event = rng.random(200) < 0.7
    weight = rng.uniform(0.0, 2.0, 200)
    expected = fit(time, event, weight)
    horizons = np.array([0.5, 3.0, 7.25])
    with xps.ArrayAPIStrictFlags(api_version=api_version):
        got = fit(xps.asarray(time), xps.asarray(event), xps.asarray(weight))
        strict_area = k.restricted_mean(got["timeline"], got["survival"], xps.asarray(horizons))
        strict_variance = k.restricted_mean_variance(
            got["timeline"], got["survival"], got["terms"], 3.0
        )
        strict_band = k.loglog_interval(got["survival"], got["terms"], 1.96)
        strict_at = k.step_values(got["timeline"], got["survival"], xps.asarray(horizons), 1.0)
    assert_same_fit(expected, {name: np.asarray(value) for name, value in got.items()})
    np.testing.assert_allclose(
        np.asarray(strict_area),
        k.restricted_mean(expected["timeline"], expected["survival"], horizons),
    )
    np.testing.assert_allclose(
        float(strict_variance),
        k.restricted_mean_variance(
            expected["timeline"], expected["survival"], expected["terms"], 3.0
        ),
    )
    for strict, reference in zip(
        strict_band, k.loglog_interval(expected["survival"], expected["terms"], 1.96), strict=True
    ):
        np.testing.assert_allclose(np.asarray(strict), reference)
    at = k.step_values(expected["timeline"], expected["survival"], horizons, 1.0)
    np.testing.assert_allclose(np.asarray(strict_at), at)
