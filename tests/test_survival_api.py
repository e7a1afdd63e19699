"""Public API of survhte.survival: worked examples, estimator protocol, groups, validation."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from survhte.survival import (
    KaplanMeier,
    NelsonAalen,
    RMSTDifference,
    kaplan_meier_by_group,
    rmst_difference,
)

TIME = np.array([0.0, 1.0, 2.0, 2.0, 2.0, 4.0, 5.0])
EVENT = np.array([1, 0, 1, 1, 0, 1, 0])


def test_worked_example_by_hand():
    """Tied events and a censoring at t = 2 share one risk set; an event at time 0 counts."""
    km = KaplanMeier().fit(TIME, EVENT)
    np.testing.assert_array_equal(km.timeline_, [0, 1, 2, 4, 5])
    np.testing.assert_array_equal(km.n_at_risk_, [7, 6, 5, 2, 1])
    np.testing.assert_array_equal(km.n_events_, [1, 0, 2, 1, 0])
    np.testing.assert_array_equal(km.n_censored_, [0, 1, 1, 0, 1])
    s = [6 / 7, 6 / 7, 6 / 7 * 3 / 5, 6 / 7 * 3 / 10, 6 / 7 * 3 / 10]
    np.testing.assert_allclose(km.survival_, s, rtol=1e-14)
    greenwood = np.cumsum([1 / 42, 0, 2 / 15, 1 / 2, 0])
    np.testing.assert_allclose(km.survival_variance_, np.square(s) * greenwood, rtol=1e-14)
    # areas: [0, 2) at 6/7, [2, 4) at 18/35, [4, 4.5) at 9/35
    assert km.rmst(4.5) == pytest.approx(12 / 7 + 36 / 35 + 9 / 70, rel=1e-14)
    a_2, a_4 = 36 / 35 + 9 / 70, 9 / 70  # integral of S from t_j to the horizon
    expected_var = (12 / 7 + a_2) ** 2 / 42 + a_2**2 * 2 / 15 + a_4**2 / 2
    assert km.rmst(4.5, return_variance=True)[1] == pytest.approx(expected_var, rel=1e-14)

    na = NelsonAalen().fit(TIME, EVENT)
    np.testing.assert_allclose(na.cumulative_hazard_, np.cumsum([1 / 7, 0, 2 / 5, 1 / 2, 0]))
    np.testing.assert_allclose(
        na.cumulative_hazard_variance_, np.cumsum([6 / 343, 0, 6 / 125, 1 / 8, 0])
    )


def test_predict_is_a_right_continuous_step_function_in_the_shape_of_times():
    km = KaplanMeier().fit([1.0, 2.0, 3.0], [1, 1, 0])
    assert km.predict(0.5) == 1.0 and isinstance(km.predict(0.5), float)
    assert km.predict(1.0) == pytest.approx(2 / 3)
    assert km.predict(100.0) == pytest.approx(1 / 3)  # last value carried forward
    times = np.array([[0.0, 1.0], [2.5, 3.0]])
    out = km.predict(times)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, [[1, 2 / 3], [1 / 3, 1 / 3]])
    na = NelsonAalen().fit([1.0, 2.0, 3.0], [1, 1, 0])
    np.testing.assert_allclose(na.predict([0.0, 1.0, 2.0]), [0.0, 1 / 3, 1 / 3 + 1 / 2])


def test_rmst_at_the_last_time_and_at_an_event_time():
    km = KaplanMeier().fit(TIME, EVENT)
    assert km.rmst(5.0) == pytest.approx(12 / 7 + 36 / 35 + 9 / 35)
    assert km.rmst(2.0) == pytest.approx(12 / 7)


def test_frequency_weights_equal_replicated_rows():
    rng = np.random.default_rng(0)
    time = np.round(rng.exponential(3.0, 50))
    event = rng.random(50) < 0.6
    event[0] = True
    counts = rng.integers(1, 4, 50)
    weighted = KaplanMeier().fit(time, event, sample_weight=counts)
    replicated = KaplanMeier().fit(np.repeat(time, counts), np.repeat(event, counts))
    for name in ("survival_", "survival_variance_", "n_at_risk_", "n_events_"):
        np.testing.assert_allclose(getattr(weighted, name), getattr(replicated, name), rtol=1e-12)
    horizon = float(time.max()) / 2
    np.testing.assert_allclose(
        weighted.rmst(horizon, return_variance=True),
        replicated.rmst(horizon, return_variance=True),
        rtol=1e-12,
    )


@pytest.mark.parametrize("estimator", [KaplanMeier(), NelsonAalen()])
def test_scikit_learn_protocol(estimator):
    assert estimator.get_params() == {}
    with pytest.raises(NotFittedError):
        estimator.predict([1.0])
    fitted = clone(estimator).fit(TIME, EVENT)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(TIME), fitted.predict(TIME))


@pytest.mark.parametrize(
    "call", [lambda km: km.rmst(1.0), lambda km: km.confidence_interval()]
)
def test_kaplan_meier_methods_need_fit(call):
    with pytest.raises(NotFittedError):
        call(KaplanMeier())


def test_by_group_equals_separate_fits():
    rng = np.random.default_rng(1)
    time = np.round(rng.exponential(5.0, 200))
    event = rng.random(200) < 0.7
    groups = np.where(rng.random(200) < 0.4, "treated", "control")
    weight = rng.uniform(0.5, 2.0, 200)
    curves = kaplan_meier_by_group(time, event, groups, sample_weight=weight)
    assert list(curves) == ["control", "treated"]
    for label, curve in curves.items():
        rows = groups == label
        alone = KaplanMeier().fit(time[rows], event[rows], sample_weight=weight[rows])
        np.testing.assert_array_equal(curve.timeline_, alone.timeline_)
        np.testing.assert_array_equal(curve.survival_, alone.survival_)


def test_rmst_difference_adds_independent_variances():
    rng = np.random.default_rng(2)
    time = np.round(rng.exponential(5.0, 300), 1)
    event = rng.random(300) < 0.7
    w = (rng.random(300) < 0.5).astype(int)
    horizon = 6.0
    result = rmst_difference(time, event, w, horizon)
    assert isinstance(result, RMSTDifference)
    r0, v0 = KaplanMeier().fit(time[w == 0], event[w == 0]).rmst(horizon, return_variance=True)
    r1, v1 = KaplanMeier().fit(time[w == 1], event[w == 1]).rmst(horizon, return_variance=True)
    assert result.labels == (0, 1)
    assert result.rmst == (r0, r1)
    assert result.difference == pytest.approx(r1 - r0, abs=1e-14)
    assert result.std_error == pytest.approx(np.sqrt(v0 + v1), rel=1e-14)
    assert result.rmst_std_error == pytest.approx((np.sqrt(v0), np.sqrt(v1)), rel=1e-14)
    lower, upper = result.confidence_interval(alpha=0.05)
    assert (upper - lower) / 2 == pytest.approx(1.959963984540054 * result.std_error, rel=1e-12)


# --- validation: every error names the argument ---------------------------------------------

@pytest.mark.parametrize(
    ("time", "event", "weight", "name"),
    [
        ([1.0, -1.0], [1, 0], None, "time"),
        ([1.0, np.nan], [1, 0], None, "time"),
        ([1.0, np.inf], [1, 0], None, "time"),
        ([1.0, 2.0], [1, 2], None, "event"),
        ([1.0, 2.0], [0, 0], None, "event"),
        ([1.0, 2.0], [1, 0, 1], None, "event"),
        ([1.0, 2.0], [1, 0], [1.0, -1.0], "sample_weight"),
        ([1.0, 2.0], [1, 0], [1.0, np.nan], "sample_weight"),
        ([1.0, 2.0], [1, 0], [0.0, 0.0], "sample_weight"),
        ([1.0, 2.0], [1, 0], [1.0], "sample_weight"),
    ],
)
@pytest.mark.parametrize("estimator", [KaplanMeier, NelsonAalen])
def test_fit_rejects_bad_input_naming_the_argument(estimator, time, event, weight, name):
    with pytest.raises(ValueError, match=name):
        estimator().fit(time, event, sample_weight=weight)


def test_fit_rejects_non_numeric_time():
    with pytest.raises(TypeError, match="time"):
        KaplanMeier().fit(["a", "b"], [1, 0])


@pytest.mark.parametrize("horizon", [0.0, -1.0, np.nan, np.inf, 5.01])
def test_rmst_rejects_bad_horizon(horizon):
    km = KaplanMeier().fit(TIME, EVENT)
    with pytest.raises(ValueError, match="horizon"):
        km.rmst(horizon)


def test_rmst_rejects_non_numeric_horizon():
    with pytest.raises(TypeError, match="horizon"):
        KaplanMeier().fit(TIME, EVENT).rmst("5")


@pytest.mark.parametrize("times", [-1.0, [0.0, np.nan], ["x"]])
def test_predict_rejects_bad_times(times):
    km = KaplanMeier().fit(TIME, EVENT)
    with pytest.raises((ValueError, TypeError), match="times"):
        km.predict(times)


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, 2])
def test_confidence_interval_rejects_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        KaplanMeier().fit(TIME, EVENT).confidence_interval(alpha=alpha)


def test_groups_are_validated():
    with pytest.raises(ValueError, match="groups"):
        kaplan_meier_by_group(TIME, EVENT, [0, 1])
    with pytest.raises(ValueError, match="groups"):
        kaplan_meier_by_group(TIME, EVENT, np.zeros((7, 2)))
    with pytest.raises(ValueError, match="groups"):
        kaplan_meier_by_group(TIME, EVENT, [0, 1, 0, 1, np.nan, 0, 1])
    with pytest.raises(ValueError, match="groups"):
        kaplan_meier_by_group(TIME, EVENT, np.array(["a", None, "a", "b", "b", "a", "b"], object))


def test_a_group_without_events_is_named():
    with pytest.raises(ValueError, match=r"group 'b'.*event"):
        kaplan_meier_by_group([1.0, 2.0, 3.0, 4.0], [1, 1, 0, 0], ["a", "a", "b", "b"])


def test_rmst_difference_needs_two_groups_and_a_shared_horizon():
    with pytest.raises(ValueError, match="groups"):
        rmst_difference(TIME, [1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 2, 2, 2], 1.0)
    with pytest.raises(ValueError, match=r"group 0.*horizon"):
        rmst_difference([1.0, 2.0, 3.0, 9.0], [1, 1, 1, 1], [0, 0, 1, 1], 5.0)
