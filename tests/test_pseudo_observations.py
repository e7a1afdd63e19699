"""Fast jackknife pseudo-observations: exact agreement with the naive n-refit jackknife."""

import array_api_strict as xps
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survhte import _kernels as k
from survhte.imputation import PseudoObservations

# The fast and naive values differ by rounding only: ~1e-16 relative per KM factor, times n
# (the jackknife multiplies theta_(-i) by n - 1) and the horizon scale (<= 10): ~1e-12 at
# n = 300, so 1e-10 leaves two orders of magnitude of margin.
ATOL = 1e-10
SETTINGS = settings(max_examples=120, deadline=None)


def km_value(time, event, horizon, functional):
    """Kaplan-Meier RMST up to ``horizon`` or S(horizon) from the kernels, by a full refit."""
    table = k.risk_table(time, event)
    survival = k.survival_curve(table)
    if functional == "rmst":
        return k.restricted_mean(table.timeline, survival, np.array([horizon]))[0]
    return k.step_values(table.timeline, survival, np.array([horizon]), 1.0)[0]


def naive_jackknife(time, event, horizon, functional):
    n = time.size
    theta = km_value(time, event, horizon, functional)
    return np.array([
        n * theta - (n - 1) * km_value(np.delete(time, i), np.delete(event, i), horizon, functional)
        for i in range(n)
    ])


def naive_added(train_time, train_event, time, event, horizon, functional):
    n = train_time.size
    theta = km_value(train_time, train_event, horizon, functional)
    return np.array([
        (n + 1) * km_value(np.append(train_time, t), np.append(train_event, e), horizon,
                           functional) - n * theta
        for t, e in zip(time, event, strict=True)
    ])


@st.composite
def tied_data(draw):
    """Integer times 0..8 (time 0 and event/censoring ties common) and a horizon between, at or
    after the observed times."""
    n = draw(st.integers(2, 40))
    time = np.array(draw(st.lists(st.integers(0, 8), min_size=n, max_size=n)), dtype=float)
    event = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    horizon = draw(st.sampled_from([0.5, 1.0, 2.5, 4.0, 7.0, 8.0, 9.5]))
    return time, event, horizon


@SETTINGS
@given(tied_data(), st.sampled_from(["rmst", "survival"]))
def test_jackknife_equals_naive_leave_one_out(data, functional):
    time, event, horizon = data
    fast = k.jackknife_pseudo_values(time, event, horizon, functional)
    np.testing.assert_allclose(fast, naive_jackknife(time, event, horizon, functional),
                               rtol=0, atol=ATOL)


@SETTINGS
@given(tied_data(), st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=1,
                             max_size=5), st.sampled_from(["rmst", "survival"]))
def test_added_row_equals_naive_refit(data, new_rows, functional):
    time, event, horizon = data
    new_time = np.array([t / 2 for t, _ in new_rows])  # between, at and beyond training times
    new_event = np.array([e for _, e in new_rows])
    fast = k.added_pseudo_values(time, event, new_time, new_event, horizon, functional)
    expected = naive_added(time, event, new_time, new_event, horizon, functional)
    np.testing.assert_allclose(fast, expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("functional", ["rmst", "survival"])
def test_jackknife_equals_naive_at_n_300(seed, functional):
    rng = np.random.default_rng(seed)
    time = np.round(rng.exponential(3.0, 300), 1)  # rounding to 0.1 leaves many ties
    time[:3] = 0.0
    event = rng.random(300) < 0.6
    for horizon in (np.median(time), float(np.sort(time)[150]), time.max()):
        fast = k.jackknife_pseudo_values(time, event, float(horizon), functional)
        np.testing.assert_allclose(
            fast, naive_jackknife(time, event, float(horizon), functional), rtol=0, atol=ATOL
        )


def test_last_row_alone_and_curve_reaching_zero():
    # The last time is an event that empties the risk set (S reaches 0), and a single row sits
    # at the last time: the two corner cases of the perturbation formula.
    time = np.array([1.0, 2.0, 2.0, 3.0, 5.0])
    for event in (np.array([1, 0, 1, 1, 1], bool), np.array([1, 1, 0, 0, 0], bool)):
        for horizon in (2.0, 4.0, 5.0):
            for functional in ("rmst", "survival"):
                np.testing.assert_allclose(
                    k.jackknife_pseudo_values(time, event, horizon, functional),
                    naive_jackknife(time, event, horizon, functional), rtol=0, atol=ATOL,
                )


def test_array_api_strict_matches_numpy():
    rng = np.random.default_rng(3)
    time = np.round(rng.exponential(2.0, 50), 1)
    event = rng.random(50) < 0.5
    event[0] = True
    expected = k.jackknife_pseudo_values(time, event, 2.0, "rmst")
    strict = k.jackknife_pseudo_values(xps.asarray(time), xps.asarray(event), 2.0, "rmst")
    np.testing.assert_allclose(np.asarray(strict), expected, rtol=0, atol=1e-14)
    added = k.added_pseudo_values(xps.asarray(time), xps.asarray(event), xps.asarray([0.3, 9.0]),
                                  xps.asarray([True, False]), 2.0, "survival")
    np.testing.assert_allclose(
        np.asarray(added),
        k.added_pseudo_values(time, event, np.array([0.3, 9.0]), np.array([True, False]), 2.0,
                              "survival"),
        rtol=0, atol=1e-14,
    )


def test_no_censoring_pseudo_values_are_the_outcomes():
    # Without censoring the KM RMST is the sample mean of min(T, h), a linear statistic, whose
    # jackknife pseudo-values are the outcomes themselves.
    time = np.array([0.5, 1.0, 1.0, 2.0, 3.5, 4.0])
    event = np.ones(6, bool)
    po = PseudoObservations(horizon=3.0).fit_transform((time, event))
    np.testing.assert_allclose(po, np.minimum(time, 3.0), atol=1e-12)
    po = PseudoObservations("survival", horizon=1.0).fit_transform((time, event))
    np.testing.assert_allclose(po, (time > 1.0).astype(float), atol=1e-12)


class TestTransformer:
    def data(self, n=300, seed=0):
        rng = np.random.default_rng(seed)
        return np.round(rng.exponential(1.0, n), 1), rng.random(n) < 0.7

    def test_fit_transform_is_the_jackknife(self):
        time, event = self.data()
        po = PseudoObservations(horizon=1.0)
        np.testing.assert_allclose(po.fit_transform((time, event)),
                                   naive_jackknife(time, event, 1.0, "rmst"), atol=ATOL)
        assert po.theta_ == pytest.approx(km_value(time, event, 1.0, "rmst"), abs=1e-14)

    def test_transform_new_rows_uses_training_statistics_only(self):
        time, event = self.data(100)
        po = PseudoObservations("survival", horizon=1.0).fit((time, event))
        new_time, new_event = np.array([0.35, 1.0, 4.0]), np.array([True, False, True])
        batch = po.transform((new_time, new_event))
        one_by_one = [po.transform((new_time[[i]], new_event[[i]]))[0] for i in range(3)]
        np.testing.assert_allclose(batch, one_by_one, atol=1e-14)  # no row sees another
        np.testing.assert_allclose(
            batch, naive_added(time, event, new_time, new_event, 1.0, "survival"), atol=ATOL
        )

    @pytest.mark.parametrize(("target", "scale"), [("rmst", 1.0), ("survival", 1.0)])
    def test_transform_of_training_rows_is_close_to_fit_transform(self, target, scale):
        # Add-one and leave-one-out pseudo-values are both theta + IF_i + O(1/n): they differ
        # by a second-order term. Measured max |difference| * n / h: 0.11 (RMST) and 0.73
        # (survival) here; the bound 5 / n allows 7x the larger.
        time, event = self.data()
        po = PseudoObservations(target, horizon=1.0)
        loo = po.fit_transform((time, event))
        added = po.transform((time, event))
        assert np.max(np.abs(loo - added)) <= 5 * scale / time.size
        assert loo.mean() == pytest.approx(added.mean(), abs=1e-10)

    def test_default_horizon_and_errors(self):
        time, event = self.data(30)
        assert PseudoObservations().fit((time, event)).horizon_ == time.max()
        with pytest.raises(ValueError, match="needs a horizon"):
            PseudoObservations("survival").fit((time, event))
        with pytest.raises(ValueError, match="beyond the last observed time"):
            PseudoObservations(horizon=time.max() + 1).fit((time, event))
        with pytest.raises(ValueError, match="at least two"):
            PseudoObservations(horizon=1.0).fit(([1.0], [1]))
