"""Fast jackknife pseudo-observations: exact agreement with the naive n-refit jackknife."""

import array_api_strict as xps
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survhte import _kernels as k
from survhte.imputation import CensoringKaplanMeier, IPCWeights, PseudoObservations
from survhte.imputation._base import to_target_scale

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


# --- IPCW pseudo-observations for covariate-dependent censoring (censoring != "km") ----------

def weighted_km_value(time, event, weight, horizon, functional):
    """Kaplan-Meier RMST up to ``horizon`` or S(horizon) with (complex) case weights."""
    value, survival, previous = 0j, 1.0 + 0j, 0.0
    for t in np.unique(time):
        if functional == "rmst":
            value += survival * (min(t, horizon) - min(previous, horizon))
        elif t > horizon:
            return survival
        at_risk = np.sum(weight * (time >= t))
        survival = survival * (1 - np.sum(weight * ((time == t) & event)) / at_risk)
        previous = t
    if functional == "rmst":
        return value + survival * max(horizon - min(previous, horizon), 0.0)
    return survival


def infinitesimal_jackknife(time, event, horizon, functional):
    """``theta + n d theta / d w_i``: the empirical influence function by complex-step
    differentiation (exact to rounding, no cancellation)."""
    n, step = time.size, 1e-30
    theta = weighted_km_value(time, event, np.ones(n), horizon, functional).real
    out = np.empty(n)
    for i in range(n):
        weight = np.ones(n, complex)
        weight[i] += 1j * step
        out[i] = theta + n * weighted_km_value(time, event, weight, horizon, functional).imag / step
    return out


@SETTINGS
@given(tied_data(), st.sampled_from(["rmst", "survival"]))
def test_ipcw_with_marginal_censoring_is_the_infinitesimal_jackknife(data, functional):
    # Stated identity: with G the Kaplan-Meier of the censoring times, the augmented IPCW
    # pseudo-value is theta_KM + IF_i exactly, and its mean is theta_KM.
    time, event, horizon = data
    if not event.any() or horizon > time.max():
        return
    X = np.arange(time.size, dtype=float)[:, None]
    po = PseudoObservations(functional, horizon=horizon, censoring=CensoringKaplanMeier(),
                            floor=1e-12)
    values = po.fit_transform((time, event), X)
    np.testing.assert_allclose(values, infinitesimal_jackknife(time, event, horizon, functional),
                               rtol=0, atol=ATOL)
    assert po.theta_ == pytest.approx(km_value(time, event, horizon, functional), abs=ATOL)


@pytest.mark.parametrize("functional", ["rmst", "survival"])
def test_marginal_ipcw_version_is_within_o_1_over_n_of_the_jackknife(functional):
    # Both are theta + IF_i + O(1/n). Measured max |difference| * n: 0.05 (RMST), 0.54
    # (survival); the bound 5 / n allows 9x the larger.
    rng = np.random.default_rng(0)
    time, event = np.round(rng.exponential(1.0, 300), 1), rng.random(300) < 0.7
    ij = PseudoObservations(functional, horizon=1.0, censoring=CensoringKaplanMeier(),
                            floor=1e-9).fit_transform((time, event), np.zeros((300, 1)))
    jackknife = PseudoObservations(functional, horizon=1.0).fit_transform((time, event))
    assert np.max(np.abs(ij - jackknife)) <= 5 / time.size
    assert ij.mean() == pytest.approx(jackknife.mean(), abs=1e-10)


@pytest.mark.parametrize("functional", ["rmst", "survival"])
def test_km_option_is_the_jackknife_of_the_ipcw_estimator(functional):
    # censoring="km" (unchanged default): the n-refit jackknife of the IPCW estimator with G
    # re-estimated by Kaplan-Meier in every leave-one-out sample (Satten & Datta 2001).
    rng = np.random.default_rng(5)
    time = np.round(rng.exponential(1.0, 80), 1)
    event = rng.random(80) < 0.6
    event[:2] = True
    horizon = 1.0

    def ipcw(t, e):
        weight = IPCWeights(horizon=horizon, floor=1e-12).fit_transform((t, e))
        return np.mean(weight * to_target_scale(t, t, e, functional, horizon))

    n, theta = time.size, ipcw(time, event)
    naive = [n * theta - (n - 1) * ipcw(np.delete(time, i), np.delete(event, i)) for i in range(n)]
    po = PseudoObservations(functional, horizon=horizon, censoring="km")
    np.testing.assert_allclose(po.fit_transform((time, event), rng.normal(size=(n, 2))), naive,
                               rtol=0, atol=ATOL)
    np.testing.assert_allclose(po.fit_transform((time, event)), naive, rtol=0, atol=ATOL)


@pytest.mark.filterwarnings("ignore:censoring survival G below floor")
class TestIPCWPseudoObservations:
    def data(self, n=3000, seed=0):
        """Binary x raises the event hazard (0.5 -> 2.5) and lowers the censoring hazard
        (3 -> 0.2): Kaplan-Meier pseudo-values are biased within each level of x."""
        rng = np.random.default_rng(seed)
        x = (rng.random(n) < 0.5).astype(float)
        T = rng.exponential(1.0 / (0.5 + 2.0 * x))
        C = rng.exponential(1.0 / (3.0 - 2.8 * x))
        return np.minimum(T, C), T <= C, np.column_stack([x, rng.normal(size=n)]), T

    def test_conditionally_unbiased_where_km_is_not(self):
        time, event, X, _ = self.data()
        h = 1.0
        ipcw = PseudoObservations(horizon=h, censoring="cox").fit_transform((time, event), X)
        km = PseudoObservations(horizon=h).fit_transform((time, event))
        km_z = []
        for level in (0.0, 1.0):
            rows = X[:, 0] == level
            rate = 0.5 + 2.0 * level
            truth = (1 - np.exp(-rate * h)) / rate  # E[min(T, h) | x]
            se = ipcw[rows].std() / np.sqrt(rows.sum())
            assert abs(ipcw[rows].mean() - truth) < 3 * se  # measured: 1.4 and 0.1 SE
            km_z.append(abs(km[rows].mean() - truth) / (km[rows].std() / np.sqrt(rows.sum())))
        assert min(km_z) > 3 and max(km_z) > 8  # measured: 14 and 4 SE

    def test_transform_is_fit_transform_and_uses_training_statistics_only(self):
        time, event, X, _ = self.data(400)
        po = PseudoObservations("survival", horizon=0.5, censoring="cox")
        values = po.fit_transform((time[:300], event[:300]), X[:300])
        np.testing.assert_allclose(po.transform((time[:300], event[:300]), X[:300]), values,
                                   rtol=0, atol=1e-12)
        assert po.theta_ == pytest.approx(values.mean())
        new = (time[300:], event[300:]), X[300:]
        batch = po.transform(*new)
        one_by_one = [po.transform((time[[i]], event[[i]]), X[[i]])[0] for i in range(300, 400)]
        np.testing.assert_allclose(batch, one_by_one, rtol=0, atol=1e-12)
        # the fit is not touched by the rows transformed
        np.testing.assert_allclose(po.transform((time[:300], event[:300]), X[:300]), values,
                                   rtol=0, atol=1e-12)

    def test_no_censoring_gives_the_outcomes(self):
        time = np.array([0.5, 1.0, 1.0, 2.0, 3.5, 4.0])
        X = np.arange(6.0)[:, None]
        po = PseudoObservations(horizon=3.0, censoring="cox")
        np.testing.assert_allclose(po.fit_transform((time, np.ones(6, bool)), X),
                                   np.minimum(time, 3.0), atol=1e-12)

    def test_floor_warning(self):
        time, event, X, _ = self.data(300)
        with pytest.warns(UserWarning, match="below floor=0.9"):
            PseudoObservations(horizon=1.0, censoring="cox", floor=0.9).fit((time, event), X)

    def test_errors_name_the_argument(self):
        time, event, X, _ = self.data(50)
        with pytest.raises(ValueError, match="censoring of PseudoObservations must be"):
            PseudoObservations(censoring="weibull").fit((time, event), X)
        with pytest.raises(ValueError, match="censoring of PseudoObservations must be"):
            PseudoObservations(censoring=object()).fit((time, event), X)
        with pytest.raises(ValueError, match="pass the covariates X"):
            PseudoObservations(censoring="cox").fit((time, event))
        with pytest.raises(ValueError, match="floor"):
            PseudoObservations(censoring="cox", floor=0.0).fit((time, event), X)
        with pytest.raises(ValueError, match="X has 49 rows"):
            PseudoObservations(censoring="cox").fit((time, event), X[:49])
        po = PseudoObservations(censoring="cox").fit((time, event), X)
        with pytest.raises(ValueError, match="pass the covariates X"):
            po.transform((time, event))
        with pytest.raises(ValueError, match="features"):
            po.transform((time, event), X[:, :1])
